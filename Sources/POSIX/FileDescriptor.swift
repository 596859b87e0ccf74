#if canImport(Glibc)
  import Glibc
#endif

/// Thin helpers over raw descriptors. Ownership is explicit at each call site: whoever
/// takes a descriptor out of a message closes it.
public enum FileDescriptor {
  /// Closes `fd` if it is a descriptor (>= 0); close errors are not actionable here.
  public static func close(_ fd: Int32) {
    if fd >= 0 { _ = Glibc.close(fd) }
  }

  public static func close<S: Sequence>(all fds: S) where S.Element == Int32 {
    for fd in fds { close(fd) }
  }

  public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws(Errno) {
    let flags = try syscall { fcntl(fd, F_GETFL) }
    let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
    _ = try syscall { fcntl(fd, F_SETFL, wanted) }
  }

  public static func setCloseOnExec(_ fd: Int32) throws(Errno) {
    _ = try syscall { fcntl(fd, F_SETFD, FD_CLOEXEC) }
  }

  /// Duplicates `fd` (close-on-exec), e.g. to hand out a copy that the receiver may close.
  public static func duplicate(_ fd: Int32) throws(Errno) -> Int32 {
    try syscall { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
  }

  /// The size of the file behind `fd`.
  public static func size(_ fd: Int32) throws(Errno) -> UInt64 {
    var st = stat()
    _ = try syscall { fstat(fd, &st) }
    return UInt64(clamping: st.st_size)
  }
}
