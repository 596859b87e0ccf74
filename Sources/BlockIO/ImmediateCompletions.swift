import BackendContract

/// Completions of a backend that finishes each request when it is enqueued
/// (memory, null): held until the next reap, then delivered in order.
///
/// A class, not a struct, because a delivery may enqueue more requests on the
/// same backend: appending to `pending` during `deliver` must not overlap an
/// exclusive access. Two arrays take turns so neither reallocates once warm.
final class ImmediateCompletions {
  private var pending: [BlockCompletion] = []
  private var delivering: [BlockCompletion] = []

  init(capacity: Int = 1024) {
    pending.reserveCapacity(capacity)
    delivering.reserveCapacity(capacity)
  }

  var count: Int { pending.count }

  func append(_ completion: BlockCompletion) { pending.append(completion) }

  /// Hands every held completion to `body`; returns how many.
  func deliver(_ body: (BlockCompletion) -> Void) -> Int {
    let count = pending.count
    guard count > 0 else { return 0 }
    swap(&pending, &delivering)
    for index in 0..<count { body(delivering[index]) }
    delivering.removeAll(keepingCapacity: true)
    return count
  }

  func removeAll() { pending.removeAll() }
}
