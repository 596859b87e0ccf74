import Glibc
import POSIX

/// An image file or block device opened, locked and measured for
/// `FileBackend`: O_DIRECT when the filesystem takes it, else buffered.
struct BackingFile {
  /// `open(2)`, replaceable so tests can play a filesystem without O_DIRECT; the
  /// number it returns is owned at once.
  typealias Opener = (String, Int32, mode_t) -> Int32

  var fd: FileDescriptor
  var size: UInt64
  var isDirect: Bool
  var isBlockDevice: Bool
  /// What O_DIRECT needs buffers, lengths and offsets aligned to; 1 when
  /// buffered.
  var alignment: Int
  var warnings: [String] = []

  /// Opens `path`; when it is missing and `createSize` is given (and not
  /// read-only), creates it sparse with that size. An existing file keeps
  /// its size. `blockSize` bounds the O_DIRECT alignment: a device that
  /// needs more than the namespace's block is used buffered.
  static func open(
    path: String, createSize: UInt64?, readOnly: Bool, blockSize: Int, direct: Bool,
    opener: Opener
  ) throws(BlockIOError) -> BackingFile {
    let created = try createIfMissing(path, size: createSize, readOnly: readOnly, opener: opener)
    do throws(BlockIOError) {
      var file = try openLocked(path, readOnly: readOnly, direct: direct, opener: opener)
      do throws(BlockIOError) {
        if created, let createSize { try file.resize(to: createSize, path: path) }
        try file.measure(path: path)
        try file.settleAlignment(
          path: path, readOnly: readOnly, blockSize: blockSize, opener: opener)
      } catch {
        file.fd.close()
        throw error
      }
      if !created, let createSize, createSize != file.size {
        file.warnings.append(
          "\(path): exists with size \(file.size); ignoring the requested size \(createSize)")
      }
      return file
    } catch {
      if created { unlink(path) }
      throw error
    }
  }

  /// Creates an empty file when `path` is missing and a size was asked for.
  /// True when this call created it.
  private static func createIfMissing(
    _ path: String, size: UInt64?, readOnly: Bool, opener: Opener
  ) throws(BlockIOError) -> Bool {
    guard let size, !readOnly else { return false }
    guard size > 0, size <= UInt64(Int64.max) else {
      throw .invalid(path, "cannot create with size \(size)")
    }
    let fd = retryingEINTR { opener(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    if fd >= 0 {
      FileDescriptor(owning: fd).close()
      return true
    }
    let error = errno
    guard error == EEXIST else { throw .system(path, errno: Errno(error)) }
    return false
  }

  /// Opens with O_DIRECT when asked (falling back to buffered on EINVAL)
  /// and takes the image lock: exclusive for writing, shared for reading.
  private static func openLocked(
    _ path: String, readOnly: Bool, direct: Bool, opener: Opener
  ) throws(BlockIOError) -> BackingFile {
    let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC
    var warnings: [String] = []
    var isDirect = direct
    var raw = retryingEINTR { opener(path, flags | (direct ? Linux.openDirect : 0), 0) }
    if raw < 0 && direct && errno == EINVAL {
      warnings.append("O_DIRECT not supported on \(path); using buffered I/O")
      isDirect = false
      raw = retryingEINTR { opener(path, flags, 0) }
    }
    guard raw >= 0 else { throw .system(path, errno: .current) }
    let fd = FileDescriptor(owning: raw)
    let mode = readOnly ? LOCK_SH : LOCK_EX
    if retryingEINTR({ flock(fd.rawValue, mode | LOCK_NB) }) != 0 {
      let error = errno
      fd.close()
      if error == EWOULDBLOCK {
        throw BlockIOError(
          subject: path, errno: Errno(error),
          reason: "in use (flock): another server, or another namespace of this one, has it open")
      }
      throw .system(path, errno: Errno(error))
    }
    return BackingFile(
      fd: fd, size: 0, isDirect: isDirect, isBlockDevice: false, alignment: 1,
      warnings: warnings)
  }

  private func resize(to size: UInt64, path: String) throws(BlockIOError) {
    // createIfMissing bounded size by Int64.max.
    if retryingEINTR({ ftruncate(fd.rawValue, off_t(size)) }) != 0 {
      throw .system(path, errno: .current)
    }
  }

  /// Size from fstat, or from the driver for a block device.
  private mutating func measure(path: String) throws(BlockIOError) {
    var info = stat()
    guard fstat(fd.rawValue, &info) == 0 else { throw .system(path, errno: .current) }
    switch info.st_mode & S_IFMT {
    case S_IFREG:
      size = UInt64(clamping: info.st_size)
    case S_IFBLK:
      isBlockDevice = true
      var bytes: UInt64 = 0
      guard ioctl(fd.rawValue, Linux.blockGetSize64, &bytes) == 0 else {
        throw .system(path, errno: .current)
      }
      size = bytes
    default:
      throw .invalid(path, "not a regular file or block device")
    }
    guard size > 0 else { throw .invalid(path, "empty image") }
  }

  /// Finds the O_DIRECT alignment, and drops to buffered I/O when it is
  /// coarser than the namespace's block (requests could not honour it).
  private mutating func settleAlignment(
    path: String, readOnly: Bool, blockSize: Int, opener: Opener
  ) throws(BlockIOError) {
    guard isDirect else { return }
    let needed = isBlockDevice ? sectorSize() : probedAlignment()
    if let needed, needed <= blockSize {
      alignment = needed
      return
    }
    let reason =
      if let needed {
        "O_DIRECT on \(path) needs \(needed)-byte alignment, more than the \(blockSize)-byte block"
      } else {
        "O_DIRECT reads fail on \(path)"
      }
    fd.close()  // releases the lock too; openLocked takes it again
    let kept = warnings
    self = try Self.openLocked(path, readOnly: readOnly, direct: false, opener: opener)
    try measure(path: path)
    warnings = kept + ["\(reason); using buffered I/O"]
  }

  private func sectorSize() -> Int? {
    var sector: Int32 = 0
    guard ioctl(fd.rawValue, Linux.blockGetSectorSize, &sector) == 0, sector >= 512,
      sector & (sector &- 1) == 0
    else { return 512 }
    return Int(sector)
  }

  /// Reads the first 512 bytes, then 4096, and keeps the first size the
  /// kernel accepts; nil when neither is (O_DIRECT is unusable here).
  private func probedAlignment() -> Int? {
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 4096, 4096) == 0, let buffer = raw else { return 4096 }
    defer { free(buffer) }
    for candidate in [512, 4096] {
      let got = retryingEINTR { pread(fd.rawValue, buffer, candidate, 0) }
      if got >= 0 { return candidate }
      if errno != EINVAL { return candidate }  // another failure: not an alignment verdict
    }
    return nil
  }
}
