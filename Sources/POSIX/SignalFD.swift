import CShims
import Glibc

/// Signals delivered as a readable descriptor, so the reactor sees them as
/// just another wakeup and handles them on its own thread (no async-signal
/// handler touching controller state).
public struct SignalFD: Sendable {
  public let fd: FileDescriptor

  /// Blocks `signals` for this thread (call before starting other threads, so
  /// they inherit the mask) and opens a signalfd for them.
  public init(signals: [Int32]) throws(Errno) {
    let fd = signals.withUnsafeBufferPointer {
      cshim_signalfd_block($0.baseAddress, Int32($0.count))
    }
    guard fd >= 0 else { throw Errno(errno) }
    self.fd = FileDescriptor(owning: fd)
  }

  /// The next pending signal number, or nil when none is waiting.
  public func next() -> Int32? {
    let signo = cshim_signalfd_next(fd.rawValue)
    return signo > 0 ? signo : nil
  }

  public func close() { fd.close() }
}
