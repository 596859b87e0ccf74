import BackendContract

/// A memory or null store the input can make fail (an errno for every new
/// request) or hold (completions wait until released; `drain` still delivers
/// everything, so resets and deletes never hang).
final class FuzzBackend: BlockBackend {
  let inner: any BlockBackend
  var injectedErrno: Int32 = 0
  var holding = false
  private var failed: [BlockCompletion] = []

  init(_ inner: any BlockBackend) { self.inner = inner }

  var size: UInt64 { inner.size }
  var isReadOnly: Bool { inner.isReadOnly }
  var completionFD: Int32? { nil }
  var inFlight: Int { inner.inFlight + failed.count }
  var statistics: BlockStatistics { inner.statistics }

  func enqueue(_ request: BlockRequest) {
    if injectedErrno != 0 {
      failed.append(BlockCompletion(tag: request.tag, errno: injectedErrno))
    } else {
      inner.enqueue(request)
    }
  }

  func submit() { inner.submit() }

  @discardableResult
  func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    guard !holding else { return 0 }
    return deliverInjected(deliver) + inner.reap(deliver)
  }

  func drain(_ deliver: (BlockCompletion) -> Void) {
    _ = deliverInjected(deliver)
    inner.drain(deliver)
  }

  private func deliverInjected(_ deliver: (BlockCompletion) -> Void) -> Int {
    let injected = failed
    failed.removeAll()
    for completion in injected { deliver(completion) }
    return injected.count
  }

  func close() { inner.close() }
}
