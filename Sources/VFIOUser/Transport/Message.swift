import POSIX

/// One whole message as received: header, payload, and the descriptors that came with it.
/// The descriptors are owned by whoever holds the message: take the ones you keep with
/// `takeFDs()`, and `closeFDs()` the rest.
public struct Message {
  public var header: MessageHeader
  public var payload: [UInt8]
  public private(set) var fds: [Int32]
  /// More descriptors arrived than the receiver accepts; the extra ones are already closed.
  public var fdsTruncated: Bool

  public init(
    header: MessageHeader, payload: [UInt8], fds: [Int32] = [], fdsTruncated: Bool = false
  ) {
    self.header = header
    self.payload = payload
    self.fds = fds
    self.fdsTruncated = fdsTruncated
  }

  /// Hands over every descriptor; the message no longer owns any.
  public mutating func takeFDs() -> [Int32] {
    defer { fds = [] }
    return fds
  }

  public mutating func closeFDs() {
    FileDescriptor.close(all: takeFDs())
  }
}
