import Glibc
import POSIX

/// One connected vfio-user peer: a non-blocking socket, a reader, and typed sends.
public final class Connection {
  public let socket: FileDescriptor
  public var reader: MessageReader
  private var nextID: UInt16 = 0

  /// Takes `socket` and makes it non-blocking.
  public init(socket: FileDescriptor, maxMessageSize: Int) throws(Errno) {
    self.socket = socket
    self.reader = MessageReader(maxMessageSize: maxMessageSize)
    try socket.setNonBlocking()
  }

  deinit {
    reader.discard()
    socket.close()
  }

  /// A fresh id for a message this side starts.
  public func makeID() -> UInt16 {
    defer { nextID &+= 1 }
    return nextID
  }

  public func send(_ header: MessageHeader, payload: [UInt8] = [], fds: [FileDescriptor] = [])
    throws(Errno)
  {
    var writer = WireWriter(capacity: MessageHeader.size + payload.count)
    header.encode(to: &writer)
    writer.append(payload)
    try UnixSocket.send(socket, writer.bytes, fds: fds)
  }

  public func sendReply(
    to request: MessageHeader, payload: [UInt8] = [], fds: [FileDescriptor] = []
  ) throws(Errno) {
    var header = request
    header.flags = MessageHeader.Kind.reply.rawValue
    header.error = 0
    header.size = UInt32(clamping: MessageHeader.size + payload.count)
    try send(header, payload: payload, fds: fds)
  }

  public func sendError(to request: MessageHeader, _ error: Errno) throws(Errno) {
    var header = request
    header.flags = MessageHeader.Kind.reply.rawValue | MessageHeader.errorBit
    header.error = UInt32(bitPattern: error.code)
    header.size = UInt32(MessageHeader.size)
    try send(header)
  }

  /// Sends a command; returns its id for matching the reply.
  public func sendCommand(
    _ command: Command, payload: [UInt8] = [], fds: [FileDescriptor] = [], noReply: Bool = false
  ) throws(Errno) -> UInt16 {
    let id = makeID()
    let header = MessageHeader(
      id: id, command: command, kind: .command, payloadSize: payload.count, noReply: noReply)
    try send(header, payload: payload, fds: fds)
    return id
  }

  /// Reads the next whole message, waiting up to `timeoutMilliseconds` (-1: forever).
  public func receive(timeoutMilliseconds: Int32 = -1) throws(Errno) -> Message {
    let deadline = Deadline(milliseconds: timeoutMilliseconds)
    while true {
      switch reader.next(from: socket) {
      case .message(let message): return message
      case .closed: throw .connectionReset
      case .unframeable: throw .protocolError
      case .failed(let error): throw error
      case .wouldBlock:
        guard let remaining = deadline.remaining() else { throw .timedOut }
        _ = try UnixSocket.waitReadable(socket, timeoutMilliseconds: remaining)
      }
    }
  }
}

/// A monotonic deadline for bounded waits.
struct Deadline {
  private let end: UInt64?

  init(milliseconds: Int32) {
    end = milliseconds < 0 ? nil : MonotonicClock.nanoseconds() + UInt64(milliseconds) * 1_000_000
  }

  /// Milliseconds left (-1 for no deadline), or nil when it has passed.
  func remaining() -> Int32? {
    guard let end else { return -1 }
    let now = MonotonicClock.nanoseconds()
    guard now < end else { return nil }
    return Int32(clamping: (end - now + 999_999) / 1_000_000)
  }
}
