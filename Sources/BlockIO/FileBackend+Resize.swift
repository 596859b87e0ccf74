import BackendContract
import Glibc

extension FileBackend {
  /// ftruncate for an image file; a block device's size is not ours to change.
  public func resize(to bytes: UInt64) throws(BackendError) {
    guard !isReadOnly else { throw BackendError(errno: EROFS) }
    guard !isBlockDevice else { throw BackendError(errno: EOPNOTSUPP) }
    guard bytes <= UInt64(Int64.max) else { throw BackendError(errno: EFBIG) }
    guard ftruncate(fd.rawValue, off_t(bytes)) == 0 else { throw BackendError(errno: errno) }
    size = bytes
  }

  /// SEEK_DATA finds allocated extents; a block device always holds data.
  public func holdsData(from offset: UInt64) -> Bool {
    guard !isBlockDevice else { return offset < size }
    guard offset < size, offset <= UInt64(Int64.max) else { return false }
    let found = lseek(fd.rawValue, off_t(offset), Linux.seekData)
    if found >= 0 { return true }
    // ENXIO: no data past offset. Any other failure: assume data, to be safe.
    return errno != ENXIO
  }
}
