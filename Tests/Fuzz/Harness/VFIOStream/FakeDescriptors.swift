import CShims
import Glibc
import POSIX
import VFIOUser

/// Descriptors the fake client attaches to its messages, made per input and
/// all closed at its end. Memfds stay open on the client side so later
/// records can write into them (guest RAM the server may have mapped).
final class FakeDescriptors {
  /// Kind byte % 8: memfds of 1 MiB, 64 KiB, 4 KiB and 0 bytes, an eventfd,
  /// /dev/null, a pipe's write end, a pipe's read end.
  static let memfdSizes: [Int] = [1 << 20, 64 << 10, 4 << 10, 0]
  /// Per input, so a long input cannot exhaust the descriptor table.
  static let budget = 256

  private(set) var memfds: [(fd: FileDescriptor, size: Int)] = []
  /// Client-side ends kept until the end (the other end of each pipe).
  private var kept: [FileDescriptor] = []
  private var made = 0

  /// Makes one descriptor to send; the caller closes it after sending unless
  /// `keepsOwnCopy` says this object does.
  func make(kind: UInt8) -> (fd: FileDescriptor, keepsOwnCopy: Bool)? {
    guard made < Self.budget else { return nil }
    made += 1
    switch kind % 8 {
    case 0, 1, 2, 3:
      let size = Self.memfdSizes[Int(kind % 4)]
      let fd = cshim_memfd_create("nvme-vfu-fuzz")
      guard fd >= 0 else { return nil }
      if ftruncate(fd, off_t(size)) != 0 {
        close(fd)
        return nil
      }
      let owned = FileDescriptor(owning: fd)
      memfds.append((owned, size))
      return (owned, true)
    case 4:
      let fd = cshim_eventfd(0, 1)
      return fd >= 0 ? (FileDescriptor(owning: fd), false) : nil
    case 5:
      let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
      return fd >= 0 ? (FileDescriptor(owning: fd), false) : nil
    default:
      var ends: [Int32] = [-1, -1]
      guard pipe(&ends) == 0 else { return nil }
      for end in ends {
        _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        _ = fcntl(end, F_SETFL, O_NONBLOCK)
      }
      let (sent, kept) = kind % 8 == 6 ? (ends[1], ends[0]) : (ends[0], ends[1])
      self.kept.append(FileDescriptor(owning: kept))
      return (FileDescriptor(owning: sent), false)
    }
  }

  /// Writes into memfd `index` (modulo the count) at `offset` (modulo its
  /// size), never growing it.
  func poke(index: Int, offset: UInt32, _ bytes: [UInt8]) {
    guard !memfds.isEmpty else { return }
    let (fd, size) = memfds[index % memfds.count]
    guard size > 0 else { return }
    let start = Int(offset) % size
    let count = min(bytes.count, size - start)
    guard count > 0 else { return }
    _ = bytes.withUnsafeBytes { pwrite(fd.rawValue, $0.baseAddress, count, off_t(start)) }
  }

  func closeAll() {
    for (fd, _) in memfds { fd.close() }
    for fd in kept { fd.close() }
    memfds = []
    kept = []
  }
}
