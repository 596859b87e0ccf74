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
    var name = Array(path.utf8)
    let abstract = name.first == UInt8(ascii: "@")
    if abstract { name[0] = 0 }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    // A path needs its NUL; an abstract name is exactly its bytes.
    guard name.count > (abstract ? 1 : 0), name.count < capacity,
      abstract || !name.contains(0)
    else { throw Errno(ENAMETOOLONG) }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: name) }
    let length =
      socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2)
      + socklen_t(name.count) + (abstract ? 0 : 1)
    let sent = try syscall {
      withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
          bytes.withUnsafeBytes { buffer in
            sendto(socket.rawValue, buffer.baseAddress, buffer.count, 0, generic, length)
          }
        }
      }
    }
    guard sent == bytes.count else { throw Errno(EMSGSIZE) }
  }
}
