import CShims

/// Settings of the calling thread (cshims_thread.h: glibc declares
/// these only with _GNU_SOURCE).
public enum CurrentThread {
  /// Pins the calling thread to CPU `cpu`.
  public static func pin(toCPU cpu: Int) throws(Errno) {
    guard let cpu = Int32(exactly: cpu) else { throw .invalidArgument }
    _ = try syscall { cshim_pin_thread(cpu) }
  }
}
