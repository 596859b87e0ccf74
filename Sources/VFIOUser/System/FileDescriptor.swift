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

  public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws(SystemError) {
    let flags = try syscallRetrying { fcntl(fd, F_GETFL) }
    let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
    _ = try syscallRetrying { fcntl(fd, F_SETFL, wanted) }
  }

  public static func setCloseOnExec(_ fd: Int32) throws(SystemError) {
    _ = try syscallRetrying { fcntl(fd, F_SETFD, FD_CLOEXEC) }
  }

  /// Duplicates `fd` (close-on-exec), e.g. to hand out a copy that the receiver may close.
  public static func duplicate(_ fd: Int32) throws(SystemError) -> Int32 {
    try syscallRetrying { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
  }

  /// The size of the file behind `fd`.
  public static func size(_ fd: Int32) throws(SystemError) -> UInt64 {
    var st = stat()
    _ = try syscallRetrying { fstat(fd, &st) }
    return UInt64(clamping: st.st_size)
  }
}
