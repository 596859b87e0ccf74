import Glibc
import Synchronization

/// An open descriptor that this object owns: it is closed when the last reference goes,
/// or earlier by `close()`. A final class rather than a `~Copyable` struct because
/// descriptors sit in arrays (the SCM_RIGHTS descriptors of a message, an IRQ table's
/// eventfds) and are shared by the holders that use them (a device's BAR memfd, also
/// named in each region description it hands out); sharing a reference never
/// duplicates the descriptor.
public final class FileDescriptor: Sendable {
  // Atomic: `close()` may race a reader on another thread (a reactor waking on it);
  // whoever exchanges the number out closes it, exactly once.
  private let raw: Atomic<Int32>

  /// Takes ownership of `rawValue`, a descriptor nobody else closes.
  public init(owning rawValue: Int32) {
    raw = Atomic(rawValue)
  }

  deinit { close() }

  /// The descriptor's number, for a system call made now; -1 once closed. Borrowed: do
  /// not close it, and do not keep it past this object's life.
  public var rawValue: Int32 { raw.load(ordering: .relaxed) }

  /// Closes now rather than at the last release (a peer must see end of stream, a
  /// replaced vector must stop firing). Later calls do nothing; close errors are not
  /// actionable here.
  public func close() {
    let fd = raw.exchange(-1, ordering: .relaxed)
    if fd >= 0 { _ = Glibc.close(fd) }
  }

  public func setNonBlocking(_ on: Bool = true) throws(Errno) {
    let flags = try syscall { fcntl(rawValue, F_GETFL) }
    let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
    _ = try syscall { fcntl(rawValue, F_SETFL, wanted) }
  }
}
