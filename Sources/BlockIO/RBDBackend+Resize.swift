import BackendContract
import CRBD
import Glibc

/// Capacity changes. Both calls wait for the cluster (bounded by the
/// operation timeout); the controller makes them between commands only.
extension RBDBackend {
  /// rbd_resize; shrinking discards the objects past the new end.
  public func resize(to bytes: UInt64) throws(BackendError) {
    guard !isReadOnly else { throw BackendError(errno: EROFS) }
    guard bytes <= UInt64(Int64.max) else { throw BackendError(errno: EFBIG) }
    let rc = rbd_resize(image, bytes)
    guard rc == 0 else { throw BackendError(errno: rc < 0 && rc > -4096 ? -rc : EIO) }
    size = bytes
  }

  /// Asks librbd which extents past `offset` are allocated (whole objects,
  /// from the object map where the image has one). Any failure answers
  /// true: shrinking must not be allowed on a guess.
  public func holdsData(from offset: UInt64) -> Bool {
    guard offset < size else { return false }
    var found = false
    let rc = withUnsafeMutablePointer(to: &found) { flag in
      rbd_diff_iterate2(
        image, nil, offset, size &- offset, 1, 1,
        { _, _, exists, argument in
          guard exists != 0 else { return 0 }
          argument?.assumingMemoryBound(to: Bool.self).pointee = true
          return -ECANCELED  // one allocated extent answers the question
        }, flag)
    }
    return found || rc < 0
  }
}
