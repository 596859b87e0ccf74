import Glibc
import POSIX

/// Reassembles messages from a non-blocking stream socket.
///
/// It never reads past the end of the current message, so descriptors (which the kernel
/// attaches to the first byte of the sender's `sendmsg`) always belong to the message
/// being read. A partial message is kept across calls.
public struct MessageReader {
  public enum Event {
    case message(Message)
    /// Nothing complete yet; wait for readability.
    case wouldBlock
    /// The peer closed (at a message boundary or mid-message).
    case closed
    /// A header whose size field cannot be framed (below 16 or above the limit); the
    /// stream cannot be trusted after it. Descriptors that came with it are closed.
    case unframeable(MessageHeader)
    case failed(Errno)
  }

  private enum State {
    case header
    case payload(MessageHeader)
  }

  public var maxMessageSize: Int
  private var state = State.header
  private var buffer = [UInt8](repeating: 0, count: MessageHeader.size)
  private var filled = 0
  private var fds: [FileDescriptor] = []
  private var fdsTruncated = false

  public init(maxMessageSize: Int) {
    self.maxMessageSize = maxMessageSize
  }

  /// Descriptors of a half-read message, closed when the connection goes away.
  public mutating func discard() {
    for fd in fds { fd.close() }
    fds = []
    fdsTruncated = false
    state = .header
    filled = 0
    buffer = [UInt8](repeating: 0, count: MessageHeader.size)
  }

  public mutating func next(from socket: FileDescriptor) -> Event {
    while true {
      let wanted = buffer.count - filled
      if wanted > 0 {
        let received: UnixSocket.Received
        do {
          let start = filled
          received = try typedThrows {
            try buffer.withUnsafeMutableBytes { raw in
              try UnixSocket.receive(
                socket, into: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
            }
          }
        } catch {
          if error.code == EAGAIN { return .wouldBlock }
          return .failed(error)
        }
        fds += received.fds
        fdsTruncated = fdsTruncated || received.fdsTruncated
        if received.count == 0 {
          discard()
          return .closed
        }
        filled += received.count
        if filled < buffer.count { continue }
      }
      switch state {
      case .header:
        var reader = WireReader(buffer)
        // 16 bytes are present, so decoding cannot fail; treat failure as unframeable anyway.
        guard let header = try? MessageHeader(from: &reader) else { return .failed(.protocolError) }
        let size = Int(header.size)
        guard size >= MessageHeader.size, size <= maxMessageSize else {
          discard()
          return .unframeable(header)
        }
        if size == MessageHeader.size { return complete(header) }
        state = .payload(header)
        buffer = [UInt8](repeating: 0, count: size - MessageHeader.size)
        filled = 0
      case .payload(let header):
        return complete(header)
      }
    }
  }

  private mutating func complete(_ header: MessageHeader) -> Event {
    let payload: [UInt8]
    if case .payload = state { payload = buffer } else { payload = [] }
    let message = Message(header: header, payload: payload, fds: fds, fdsTruncated: fdsTruncated)
    fds = []
    fdsTruncated = false
    state = .header
    buffer = [UInt8](repeating: 0, count: MessageHeader.size)
    filled = 0
    return .message(message)
  }
}
