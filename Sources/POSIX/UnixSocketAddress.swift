import Glibc

/// An AF_UNIX address and the length bind, connect and sendto take with it.
public struct UnixSocketAddress {
  public enum Names {
    /// `path` is a file path, "@" included.
    case pathsOnly
    /// A leading "@" names an abstract socket (it stands for the leading NUL), as
    /// systemd's NOTIFY_SOCKET may.
    case abstractAllowed
  }

  var storage = sockaddr_un()
  public let length: socklen_t

  /// ENAMETOOLONG for an empty name, one that does not fit sun_path, or a path with a NUL.
  public init(_ path: String, names: Names = .pathsOnly) throws(Errno) {
    var name = Array(path.utf8)
    let abstract = names == .abstractAllowed && name.first == UInt8(ascii: "@")
    if abstract { name[0] = 0 }
    storage.sun_family = sa_family_t(AF_UNIX)
    let capacity = MemoryLayout.size(ofValue: storage.sun_path)
    // A path needs its NUL; an abstract name is exactly its bytes.
    guard name.count > (abstract ? 1 : 0), name.count < capacity,
      abstract || !name.contains(0)
    else { throw Errno(ENAMETOOLONG) }
    withUnsafeMutableBytes(of: &storage.sun_path) { raw in raw.copyBytes(from: name) }
    let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
    length = socklen_t(pathOffset + name.count + (abstract ? 0 : 1))
  }

  /// Calls `body` with the address as the generic sockaddr the socket calls take.
  public func withSockaddr<Result>(
    _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
  ) -> Result {
    withUnsafePointer(to: storage) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
    }
  }
}
