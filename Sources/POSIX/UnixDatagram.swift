import Glibc

extension UnixSocket {
  /// Sends `bytes` as one datagram to the AF_UNIX datagram socket at `path`, from a
  /// socket made for it and closed after. A path starting with "@" names an abstract
  /// socket (the "@" stands for the leading NUL), as systemd's NOTIFY_SOCKET may.
  public static func sendDatagram(_ bytes: [UInt8], to path: String) throws(Errno) {
    let socket = FileDescriptor(
      owning: try syscall {
        Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      })
    defer { socket.close() }
    let address = try UnixSocketAddress(path, names: .abstractAllowed)
    let sent = try syscall {
      address.withSockaddr { generic, length in
        bytes.withUnsafeBytes { buffer in
          sendto(socket.rawValue, buffer.baseAddress, buffer.count, 0, generic, length)
        }
      }
    }
    guard sent == bytes.count else { throw Errno(EMSGSIZE) }
  }
}
