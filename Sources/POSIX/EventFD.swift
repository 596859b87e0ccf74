import CShims
import Glibc

/// eventfd(2): how interrupts reach the VMM and how other threads wake a reactor.
public enum EventFD {
  public static func create(nonBlocking: Bool = true) throws(Errno) -> FileDescriptor {
    FileDescriptor(owning: try syscall { cshim_eventfd(0, nonBlocking ? 1 : 0) })
  }

  /// Adds 1 to the counter. EAGAIN (counter saturated) still means "signalled".
  @discardableResult
  public static func signal(_ fd: FileDescriptor) -> Bool {
    var one: UInt64 = 1
    let n = retryingEINTR { write(fd.rawValue, &one, 8) }
    return n == 8 || (n == -1 && errno == EAGAIN)
  }

  /// Reads and clears the counter; nil when it was zero (non-blocking) or on error.
  public static func drain(_ fd: FileDescriptor) -> UInt64? {
    var value: UInt64 = 0
    return retryingEINTR { read(fd.rawValue, &value, 8) } == 8 ? value : nil
  }
}
