import Glibc

/// Kernel ABI values Swift's Glibc module does not import (they sit behind
/// _GNU_SOURCE or are ioctl macros). Stable Linux ABI.
enum Linux {
  /// O_DIRECT differs by architecture (asm/fcntl.h).
  #if arch(arm64) || arch(arm)
    static let openDirect: Int32 = 0o200000
  #elseif arch(powerpc64) || arch(powerpc64le)
    static let openDirect: Int32 = 0o400000
  #else
    static let openDirect: Int32 = 0o40000
  #endif

  /// lseek whence for the next data extent (unistd.h, _GNU_SOURCE).
  static let seekData: Int32 = 3

  static let fallocateKeepSize: Int32 = 0x01
  static let fallocatePunchHole: Int32 = 0x02
  static let fallocateZeroRange: Int32 = 0x10

  /// Per-write O_DSYNC (linux/fs.h RWF_DSYNC), honoured by aio since 4.13.
  static let rwfDataSync: UInt32 = 0x2

  /// _IOR(0x12, 114, size_t): device size in bytes (powerpc encodes "read"
  /// in a different bit).
  #if arch(powerpc64) || arch(powerpc64le)
    static let blockGetSize64: UInt = 0x4008_1272
  #else
    static let blockGetSize64: UInt = 0x8008_1272
  #endif
  /// _IO(0x12, 104): logical sector size.
  static let blockGetSectorSize: UInt = 0x1268

  /// UIO_MAXIOV: the most iovecs one preadv/pwritev takes.
  static let maxIOVecs = 1024
}
