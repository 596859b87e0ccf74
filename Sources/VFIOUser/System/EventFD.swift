import CShims

#if canImport(Glibc)
  import Glibc
#endif

/// eventfd(2): how interrupts reach the VMM and how other threads wake a reactor.
public enum EventFD {
  public static func create(nonBlocking: Bool = true) throws(SystemError) -> Int32 {
    try syscallRetrying { cshim_eventfd(0, nonBlocking ? 1 : 0) }
  }

  /// Adds 1 to the counter. EAGAIN (counter saturated) still means "signalled".
  @discardableResult
  public static func signal(_ fd: Int32) -> Bool {
    var one: UInt64 = 1
    while true {
      let n = write(fd, &one, 8)
      if n == 8 { return true }
      if n == -1 && errno == EINTR { continue }
      return n == -1 && errno == EAGAIN
    }
  }

  /// Reads and clears the counter; nil when it was zero (non-blocking) or on error.
  public static func drain(_ fd: Int32) -> UInt64? {
    var value: UInt64 = 0
    while true {
      let n = read(fd, &value, 8)
      if n == 8 { return value }
      if n == -1 && errno == EINTR { continue }
      return nil
    }
  }
}
