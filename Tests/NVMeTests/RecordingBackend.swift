import BackendContract
import BlockIO
import Glibc

/// A `MemoryBackend` that remembers every request it was given (so tests can
/// see FUA, flushes and discards, which leave no trace in the bytes) and can
/// fail requests with an injected errno.
final class RecordingBackend: BlockBackend {
  struct Record: Equatable {
    var operation: BlockOperation
    var offset: UInt64
    var length: UInt64
    var forceUnitAccess: Bool
  }

  let inner: MemoryBackend
  private(set) var records: [Record] = []
  /// Non-zero: the next requests complete with this errno and do nothing.
  var injectedErrno: Int32 = 0
  /// True: `reap` delivers nothing (requests stay in flight); `drain` still
  /// delivers everything so resets and deletes cannot hang.
  var holding = false
  private var failed: [BlockCompletion] = []

  init(_ inner: MemoryBackend) { self.inner = inner }

  var size: UInt64 { inner.size }
  var isReadOnly: Bool { inner.isReadOnly }
  var completionFD: Int32? { nil }
  var inFlight: Int { inner.inFlight + failed.count }
  var statistics: BlockStatistics { inner.statistics }

  func operations(_ operation: BlockOperation) -> [Record] {
    records.filter { $0.operation == operation }
  }

  func enqueue(_ request: BlockRequest) {
    records.append(
      Record(
        operation: request.operation, offset: request.offset, length: request.length,
        forceUnitAccess: request.forceUnitAccess))
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

  private func deliverInjected(_ deliver: (BlockCompletion) -> Void) -> Int {
    let injected = failed
    failed.removeAll()
    for completion in injected { deliver(completion) }
    return injected.count
  }

  func drain(_ deliver: (BlockCompletion) -> Void) {
    _ = deliverInjected(deliver)
    inner.drain(deliver)
  }

  func close() { inner.close() }
}
