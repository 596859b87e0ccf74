import CShims
import Glibc
import POSIX

/// Copies inside the image, on the helper thread: a copy of a few MiB can
/// take tens to hundreds of milliseconds, far too long for the reactor.
///
/// copy_file_range first: it lets the filesystem do better than moving the
/// bytes (a reflink on XFS or btrfs, a server-side copy on NFS). Where it
/// cannot (refused, or ranges that overlap, which it rejects) the bytes go
/// through a 1 MiB aligned buffer. Measured on ext4 with O_DIRECT (2-vCPU
/// VM, 8 MiB): copy_file_range 48-309 ms, the buffer 23-36 ms; the
/// controller's MCL (4 MiB) keeps either well inside one command's budget.
extension SyncWorker {
  static let copyChunk = 1024 * 1024

  /// 0 or the errno. The backend checked both ranges against its size
  /// (<= Int64.max) and its alignment.
  func copy(from source: UInt64, to destination: UInt64, length: UInt64) -> Int32 {
    guard length > 0, source != destination else { return 0 }
    let overlaps = source < destination &+ length && destination < source &+ length
    var done: UInt64 = 0
    if copyFileRange && !overlaps {
      var input = Int64(source)
      var output = Int64(destination)
      while done < length {
        let copied = retryingEINTR {
          cshim_copy_file_range(fd.rawValue, &input, &output, length &- done)
        }
        if copied > 0 {
          done &+= UInt64(copied)
          continue
        }
        if copied == 0 { return EIO }  // the file ended under us
        let failure = errno
        // Not for this file or kernel: the buffer, from here on and later.
        guard [EXDEV, EINVAL, EOPNOTSUPP, ENOSYS].contains(failure) else { return failure }
        copyFileRange = false
        break
      }
    }
    return bufferedCopy(from: source &+ done, to: destination &+ done, length: length &- done)
  }

  /// Through an aligned buffer, chunk by chunk; backwards when the
  /// destination overlaps the source from above, so every source byte is
  /// read before it is overwritten.
  private func bufferedCopy(from source: UInt64, to destination: UInt64, length: UInt64) -> Int32 {
    guard length > 0 else { return 0 }
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 4096, Self.copyChunk) == 0, let buffer = raw else { return ENOMEM }
    defer { free(buffer) }
    let backwards = destination > source
    var remaining = length
    while remaining > 0 {
      let chunk = min(remaining, UInt64(Self.copyChunk))
      let at = backwards ? remaining &- chunk : length &- remaining
      if let failure = transfer(
        buffer, count: Int(chunk), from: source &+ at, to: destination &+ at)
      {
        return failure
      }
      remaining &-= chunk
    }
    return 0
  }

  /// One chunk, read whole then written whole; nil when done, else the errno.
  private func transfer(
    _ buffer: UnsafeMutableRawPointer, count: Int, from source: UInt64, to destination: UInt64
  ) -> Int32? {
    var moved = 0
    while moved < count {
      let got = retryingEINTR {
        pread(fd.rawValue, buffer + moved, count &- moved, off_t(source &+ UInt64(moved)))
      }
      if got < 0 { return errno }
      if got == 0 { return EIO }
      moved &+= got
    }
    moved = 0
    while moved < count {
      let put = retryingEINTR {
        pwrite(fd.rawValue, buffer + moved, count &- moved, off_t(destination &+ UInt64(moved)))
      }
      if put < 0 { return errno }
      if put == 0 { return EIO }
      moved &+= put
    }
    return nil
  }
}
