import BackendContract
import BlockIO
import Glibc
import Synchronization

/// Which requests a `FaultyBackend` fails, set by the test thread while the
/// reactor runs: an errno per operation over a byte range.
final class FaultRules: Sendable {
  struct Rule: Sendable {
    var operation: BlockOperation
    /// Bytes of the namespace; a request touching any of them fails.
    var bytes: Range<UInt64>
    var errno: Int32
  }

  private let state = Mutex<(rules: [Rule], injected: Int)>(([], 0))

  func set(_ rules: [Rule]) { state.withLock { $0.rules = rules } }

  /// Requests failed so far.
  var injected: Int { state.withLock { $0.injected } }

  /// The errno `request` fails with, if a rule matches it (and counts it).
  func errno(for request: BlockRequest) -> Int32? {
    state.withLock { state in
      let end = request.offset &+ max(request.length, 1)
      guard
        let rule = state.rules.first(where: {
          $0.operation == request.operation
            && (request.operation == .flush || $0.bytes.overlaps(request.offset..<end))
        })
      else { return nil }
      state.injected += 1
      return rule.errno
    }
  }
}

/// A memory store that fails the requests its `FaultRules` name (they do
/// nothing and complete with the errno, as a failing disk's would) and
/// serves the rest. Reactor thread only, like every backend.
final class FaultyBackend: BlockBackend {
  let inner: MemoryBackend
  let rules: FaultRules
  private var failed: [BlockCompletion] = []

  init?(size: UInt64, rules: FaultRules) {
    guard let inner = MemoryBackend(size: size) else { return nil }
    self.inner = inner
    self.rules = rules
  }

  var size: UInt64 { inner.size }
  var isReadOnly: Bool { false }
  var completionFD: Int32? { nil }
  var inFlight: Int { inner.inFlight + failed.count }
  var statistics: BlockStatistics { inner.statistics }

  func enqueue(_ request: BlockRequest) {
    if let errno = rules.errno(for: request) {
      failed.append(BlockCompletion(tag: request.tag, errno: errno))
    } else {
      inner.enqueue(request)
    }
  }

  func submit() { inner.submit() }

  @discardableResult
  func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    let injected = failed
    failed.removeAll()
    for completion in injected { deliver(completion) }
    return injected.count + inner.reap(deliver)
  }

  func drain(_ deliver: (BlockCompletion) -> Void) {
    reap(deliver)
    inner.drain(deliver)
  }

  func close() { inner.close() }
}
