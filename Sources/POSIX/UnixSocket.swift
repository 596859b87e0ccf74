import CShims
import Glibc

/// AF_UNIX stream sockets: listen, accept, connect, pairs, and SCM_RIGHTS traffic.
public enum UnixSocket {
  /// What one receive returned: bytes (0 at end of stream) and the descriptors with them.
  public struct Received {
    public var count: Int
    public var fds: [FileDescriptor]
    /// The peer sent more descriptors than fit; the extra ones were closed.
    public var fdsTruncated: Bool
  }

  /// Descriptors accepted with one receive, beyond which the rest are closed.
  public static let maxReceivedFDs = 32

  /// A listening socket at `path`. With `permissions` the socket file gets that
  /// mode from the start (set through the umask around bind, so there is no
  /// moment at which it is wider; the umask is process-wide, so call this
  /// during set-up, not while other threads create files).
  public static func listen(path: String, backlog: Int32 = 16, permissions: mode_t? = nil)
    throws(Errno) -> FileDescriptor
  {
    let fd = try streamSocket()
    let address = try UnixSocketAddress(path)
    let savedMask = permissions.map { umask(~$0 & 0o777) }
    defer { if let savedMask { umask(savedMask) } }
    _ = try syscall { address.withSockaddr { bind(fd.rawValue, $0, $1) } }
    _ = try syscall { Glibc.listen(fd.rawValue, backlog) }
    return fd
  }

  /// Accepts one connection (close-on-exec); nil when a non-blocking listener has none.
  public static func accept(_ listener: FileDescriptor) throws(Errno) -> FileDescriptor? {
    while true {
      let fd = retryingEINTR { cshim_accept_cloexec(listener.rawValue) }
      if fd >= 0 { return FileDescriptor(owning: fd) }
      switch errno {
      case ECONNABORTED: continue  // that peer is gone; the next may be waiting
      case EAGAIN: return nil
      default: throw .current
      }
    }
  }

  public static func connect(path: String) throws(Errno) -> FileDescriptor {
    let fd = try streamSocket()
    let address = try UnixSocketAddress(path)
    _ = try syscall { address.withSockaddr { Glibc.connect(fd.rawValue, $0, $1) } }
    return fd
  }

  private static func streamSocket() throws(Errno) -> FileDescriptor {
    FileDescriptor(
      owning: try syscall {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      })
  }

  /// A connected pair, for in-process peers and tests.
  public static func pair() throws(Errno) -> (FileDescriptor, FileDescriptor) {
    var fds: [Int32] = [-1, -1]
    _ = try syscall {
      socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
    }
    return (FileDescriptor(owning: fds[0]), FileDescriptor(owning: fds[1]))
  }

  /// Sends all of `bytes`, the descriptors riding on the first chunk. Blocks (polling a
  /// non-blocking socket) until done or the peer is gone.
  public static func send(
    _ fd: FileDescriptor, _ bytes: [UInt8], fds: [FileDescriptor] = []
  ) throws(Errno) {
    var sent = 0
    var pendingFDs = fds.map(\.rawValue)
    while sent < bytes.count || (bytes.isEmpty && !pendingFDs.isEmpty) {
      let n = retryingEINTR {
        bytes.withUnsafeBytes { raw in
          pendingFDs.withUnsafeBufferPointer { fdBuffer in
            cshim_send_with_fds(
              fd.rawValue, raw.baseAddress.map { $0 + sent }, raw.count - sent,
              fdBuffer.baseAddress,
              Int32(fdBuffer.count))
          }
        }
      }
      if n < 0 {
        guard errno == EAGAIN else { throw .current }
        try waitWritable(fd)
        continue
      }
      sent += n
      pendingFDs = []
      if bytes.isEmpty { break }
    }
  }

  /// One recvmsg of at most `buffer.count` bytes; throws EAGAIN for "nothing yet".
  public static func receive(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno) -> Received
  {
    var fds = [Int32](repeating: -1, count: maxReceivedFDs)
    var count: Int32 = 0
    var truncated: Int32 = 0
    let n = try syscall {
      fds.withUnsafeMutableBufferPointer { fdBuffer in
        cshim_recv_with_fds(
          fd.rawValue, buffer.baseAddress, buffer.count, 0, fdBuffer.baseAddress,
          Int32(maxReceivedFDs),
          &count, &truncated)
      }
    }
    return Received(
      count: n, fds: fds.prefix(Int(count)).map(FileDescriptor.init(owning:)),
      fdsTruncated: truncated != 0)
  }

  /// Waits until `fd` is readable (or hung up); false on timeout. -1 waits forever.
  public static func waitReadable(_ fd: FileDescriptor, timeoutMilliseconds: Int32 = -1)
    throws(Errno)
    -> Bool
  {
    try !fd.poll(for: .readable, timeout: .milliseconds(Int(timeoutMilliseconds))).isEmpty
  }

  static func waitWritable(_ fd: FileDescriptor) throws(Errno) {
    let ready = try fd.poll(for: .writable, timeout: .forever)
    if !ready.isDisjoint(with: [.error, .hangUp]) { throw Errno(EPIPE) }
  }

  /// True when `fd` is a listening socket (SO_ACCEPTCONN), false for a connected one.
  public static func isListening(_ fd: FileDescriptor) throws(Errno) -> Bool {
    var listening: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    _ = try syscall { getsockopt(fd.rawValue, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) }
    return listening != 0
  }

  /// Removes a socket file nobody serves any more, so `listen` can take its path. EEXIST
  /// when `path` is not a socket, EADDRINUSE when a live server answers there.
  public static func removeStale(path: String) throws(Errno) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    guard st.st_mode & S_IFMT == S_IFSOCK else { throw Errno(EEXIST) }
    if isServed(path: path) { throw Errno(EADDRINUSE) }
    remove(path: path)
  }

  /// Unlinks the socket file at `path`; a missing one is fine.
  public static func remove(path: String) {
    _ = unlink(path)
  }

  /// True when something accepts connections at `path` (a live server, not a stale file).
  public static func isServed(path: String) -> Bool {
    (try? connect(path: path)) != nil
  }
}

extension UnixSocket {
  /// Half-closes the sending side (the peer then reads end of stream).
  public static func shutdownWrite(_ fd: FileDescriptor) {
    _ = shutdown(fd.rawValue, Int32(SHUT_WR))
  }
}

extension UnixSocket {
  /// One non-blocking send of as much of `bytes` as fits; 0 when the socket is full.
  /// No SIGPIPE: a gone peer is EPIPE.
  public static func sendSome(_ fd: FileDescriptor, _ bytes: ArraySlice<UInt8>) throws(Errno)
    -> Int
  {
    let n = retryingEINTR {
      bytes.withUnsafeBytes { raw in
        Glibc.send(fd.rawValue, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
      }
    }
    if n >= 0 { return n }
    if errno == EAGAIN { return 0 }
    throw .current
  }

  /// One non-blocking receive into `buffer` (no descriptors); 0 at end of stream,
  /// nil when nothing is waiting.
  public static func receiveSome(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno) -> Int?
  {
    let n = retryingEINTR {
      Glibc.recv(fd.rawValue, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
    }
    if n >= 0 { return n }
    if errno == EAGAIN { return nil }
    throw .current
  }
}
