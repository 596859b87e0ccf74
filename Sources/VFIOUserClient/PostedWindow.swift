/// The message IDs of commands posted (No_reply) since the last reply to a
/// request: the only IDs a stray reply may carry.
///
/// The server answers nothing to a posted command that works or fails
/// cleanly; it replies (with an error) only when a posted command fails so
/// badly that it drops the connection. Such a reply must be told apart from
/// the reply to the request being waited for, so the window stays shorter
/// than the ID space: at `limit` posts the next command is sent as a request
/// instead, and its reply closes the window. IDs come from one counter, so
/// the posts since a reply are one run of consecutive IDs.
struct PostedWindow: Sendable, Equatable {
  /// Posts between replies; half the ID space, so a request's ID is never
  /// in the window.
  static let limit = 0x8000

  private(set) var first: UInt16 = 0
  private(set) var count = 0

  var isFull: Bool { count >= Self.limit }

  /// Records a post with `id` (the next ID after the last one recorded).
  mutating func add(_ id: UInt16) {
    if count == 0 {
      first = id
      count = 1
    } else {
      count = max(count, Int(id &- first) &+ 1)
    }
  }

  func contains(_ id: UInt16) -> Bool { count > 0 && Int(id &- first) < count }

  /// A reply to a request arrived: every command posted before it has been
  /// handled, and any reply of theirs came first.
  mutating func close() { count = 0 }
}
