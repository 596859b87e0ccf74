import CShims

#if canImport(Glibc)
  import Glibc
#endif

/// AF_UNIX stream sockets: listen, accept, connect, pairs, and SCM_RIGHTS traffic.
public enum UnixSocket {
  /// What one receive returned: bytes (0 at end of stream) and the descriptors with them.
  public struct Received {
    public var count: Int
    public var fds: [Int32]
    /// The peer sent more descriptors than fit; the extra ones were closed.
    public var fdsTruncated: Bool
  }

  /// Descriptors accepted with one receive, beyond which the rest are closed.
  public static let maxReceivedFDs = 32

  public static func listen(path: String, backlog: Int32 = 16) throws(SystemError) -> Int32 {
    let fd = try syscallRetrying {
      socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }
    do {
      var address = try socketAddress(path)
      _ = try syscallRetrying {
        withUnsafePointer(to: &address) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
          }
        }
      }
      _ = try syscallRetrying { Glibc.listen(fd, backlog) }
      return fd
    } catch {
      FileDescriptor.close(fd)
      throw error
    }
  }

  /// Accepts one connection (close-on-exec); nil when a non-blocking listener has none.
  public static func accept(_ listener: Int32) throws(SystemError) -> Int32? {
    while true {
      let fd = cshim_accept_cloexec(listener)
      if fd >= 0 { return fd }
      switch errno {
      case EINTR, ECONNABORTED: continue
      case EAGAIN: return nil
      default: throw .current
      }
    }
  }

  public static func connect(path: String) throws(SystemError) -> Int32 {
    let fd = try syscallRetrying {
      socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }
    do {
      var address = try socketAddress(path)
      _ = try syscallRetrying {
        withUnsafePointer(to: &address) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
          }
        }
      }
      return fd
    } catch {
      FileDescriptor.close(fd)
      throw error
    }
  }

  /// A connected pair, for in-process peers and tests.
  public static func pair() throws(SystemError) -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    _ = try syscallRetrying {
      socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
    }
    return (fds[0], fds[1])
  }

  /// Sends all of `bytes`, the descriptors riding on the first chunk. Blocks (polling a
  /// non-blocking socket) until done or the peer is gone.
  public static func send(_ fd: Int32, _ bytes: [UInt8], fds: [Int32] = []) throws(SystemError) {
    var sent = 0
    var pendingFDs = fds
    while sent < bytes.count || (bytes.isEmpty && !pendingFDs.isEmpty) {
      let n = bytes.withUnsafeBytes { raw in
        pendingFDs.withUnsafeBufferPointer { fdBuffer in
          cshim_send_with_fds(
            fd, raw.baseAddress.map { $0 + sent }, raw.count - sent, fdBuffer.baseAddress,
            Int32(fdBuffer.count))
        }
      }
      if n < 0 {
        switch errno {
        case EINTR: continue
        case EAGAIN: try waitWritable(fd)
        default: throw .current
        }
        continue
      }
      sent += n
      pendingFDs = []
      if bytes.isEmpty { break }
    }
  }

  /// One recvmsg of at most `buffer.count` bytes; throws EAGAIN for "nothing yet".
  public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer)
    throws(SystemError) -> Received
  {
    var fds = [Int32](repeating: -1, count: maxReceivedFDs)
    var count: Int32 = 0
    var truncated: Int32 = 0
    while true {
      let n = fds.withUnsafeMutableBufferPointer { fdBuffer in
        cshim_recv_with_fds(
          fd, buffer.baseAddress, buffer.count, 0, fdBuffer.baseAddress, Int32(maxReceivedFDs),
          &count, &truncated)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw .current
      }
      return Received(
        count: n, fds: Array(fds.prefix(Int(count))), fdsTruncated: truncated != 0)
    }
  }

  /// Waits until `fd` is readable (or hung up); false on timeout. -1 waits forever.
  public static func waitReadable(_ fd: Int32, timeoutMilliseconds: Int32 = -1) throws(SystemError)
    -> Bool
  {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let n = try syscallRetrying { poll(&entry, 1, timeoutMilliseconds) }
    return n > 0
  }

  static func waitWritable(_ fd: Int32) throws(SystemError) {
    var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    _ = try syscallRetrying { poll(&entry, 1, -1) }
    if entry.revents & Int16(POLLERR | POLLHUP) != 0 { throw SystemError(EPIPE) }
  }

  /// True when something accepts connections at `path` (a live server, not a stale file).
  public static func isServed(path: String) -> Bool {
    guard let fd = try? connect(path: path) else { return false }
    FileDescriptor.close(fd)
    return true
  }

  static func socketAddress(_ path: String) throws(SystemError) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
      throw SystemError(ENAMETOOLONG)
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    return address
  }
}

extension UnixSocket {
  /// Half-closes the sending side (the peer then reads end of stream).
  public static func shutdownWrite(_ fd: Int32) {
    _ = shutdown(fd, Int32(SHUT_WR))
  }
}
