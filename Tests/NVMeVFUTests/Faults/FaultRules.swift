import BackendContract
import BlockIO
import Glibc
import Synchronization

/// Which requests a `TestBackend` fails (its `fails` closure), set by the test thread while the
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
