import CShims
import Glibc

/// One mmap(2)ed range, unmapped explicitly by its owner.
public struct MemoryMapping: @unchecked Sendable {
  // @unchecked: the pointer is only a value here; the owner decides which thread uses it.
  public let base: UnsafeMutableRawPointer
  public let length: Int

  public enum Access: Sendable {
    case none, readOnly, writeOnly, readWrite

    public init(read: Bool, write: Bool) {
      switch (read, write) {
      case (false, false): self = .none
      case (true, false): self = .readOnly
      case (false, true): self = .writeOnly
      case (true, true): self = .readWrite
      }
    }

    var protection: Int32 {
      switch self {
      case .none: PROT_NONE
      case .readOnly: PROT_READ
      // x86 cannot map write-only; PROT_WRITE implies read, which the table forbids anyway.
      case .writeOnly: PROT_WRITE
      case .readWrite: PROT_READ | PROT_WRITE
      }
    }
  }

  /// Maps `length` bytes of `fd` at `offset`, shared, with `access`.
  public static func map(fd: FileDescriptor, offset: UInt64, length: UInt64, access: Access)
    throws(Errno) -> MemoryMapping
  {
    guard length > 0, let size = Int(exactly: length), let off = off_t(exactly: offset) else {
      throw .invalidArgument
    }
    let pointer = mmap(nil, size, access.protection, MAP_SHARED, fd.rawValue, off)
    guard let pointer, pointer != MAP_FAILED else { throw .current }
    return MemoryMapping(base: pointer, length: size)
  }

  public func unmap() {
    _ = munmap(base, length)
  }

  public var buffer: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: base, count: length)
  }
}

/// memfd_create(2) plus a size: anonymous shared memory to hand to a peer.
public enum SharedMemory {
  /// `sealed`: the size is sealed (F_SEAL_SHRINK, F_SEAL_GROW), so a peer
  /// holding the descriptor cannot truncate it; touching a page past a new
  /// end would raise SIGBUS in every process that maps it. Tests that play
  /// such a peer pass false.
  public static func create(name: String, size: UInt64, sealed: Bool = true)
    throws(Errno) -> FileDescriptor
  {
    let fd = FileDescriptor(owning: try syscall { cshim_memfd_create(name) })
    guard let length = off_t(exactly: size) else { throw .invalidArgument }
    if ftruncate(fd.rawValue, length) != 0 || (sealed && cshim_seal_size(fd.rawValue) != 0) {
      throw .current
    }
    return fd
  }
}
