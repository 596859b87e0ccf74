/// One interrupt vector's coalescing state: the completion entries posted for
/// it since its last interrupt and when they must be signalled by.
struct VectorAggregation {
  /// Feature 08h is in effect and feature 09h's CD is clear for this vector
  /// (never for vector 0, the admin queue's).
  var coalesces = false
  /// Entries posted and not yet signalled.
  var entries = 0
  /// On the controller's list of vectors with entries waiting.
  var listed = false
  /// When the waiting entries are signalled at the latest (fine clock,
  /// nanoseconds); nil until the end of the turn that posted the first.
  var deadline: UInt64?

  /// Counts one more entry; true when that reaches `threshold` (THR + 1),
  /// after which the count starts again.
  mutating func add(threshold: Int) -> Bool {
    entries &+= 1
    guard entries >= threshold else { return false }
    clear()
    return true
  }

  /// The vector was (or is about to be) signalled: nothing waits any more.
  mutating func clear() {
    entries = 0
    deadline = nil
  }
}
