import POSIX

/// One whole message as received: header, payload, and the descriptors that came with it.
/// The message holds the descriptors: take the ones you keep with `takeFDs()`, and
/// `closeFDs()` the rest (or let them close with the message).
public struct Message {
  public var header: MessageHeader
  public var payload: [UInt8]
  public private(set) var fds: [FileDescriptor]
  /// More descriptors arrived than the receiver accepts; the extra ones are already closed.
  public var fdsTruncated: Bool

  public init(
    header: MessageHeader, payload: [UInt8], fds: [FileDescriptor] = [], fdsTruncated: Bool = false
  ) {
    self.header = header
    self.payload = payload
    self.fds = fds
    self.fdsTruncated = fdsTruncated
  }

  /// Hands over every descriptor; the message no longer owns any.
  public mutating func takeFDs() -> [FileDescriptor] {
    defer { fds = [] }
    return fds
  }

  /// Closes the descriptors nobody took, now (not when the last copy of the message goes).
  public mutating func closeFDs() {
    for fd in takeFDs() { fd.close() }
  }
}
