import Glibc
import POSIX
import VFIOUser

/// A contiguous piece of guest RAM: its guest-physical address and where this
/// process sees the same bytes.
public struct GuestBuffer {
  public let address: UInt64
  public let bytes: UnsafeMutableRawBufferPointer

  public init(address: UInt64, bytes: UnsafeMutableRawBufferPointer) {
    self.address = address
    self.bytes = bytes
  }

  public var count: Int { bytes.count }

  /// `count` bytes from `offset`; nil when that leaves the buffer.
  public func slice(offset: Int, count: Int) -> GuestBuffer? {
    guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
      return nil
    }
    return GuestBuffer(
      address: address &+ UInt64(offset),
      bytes: UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<offset + count]))
  }
}

/// One window of guest RAM shared with the server, as a VMM shares it.
///
/// `.memfd` hands the server a descriptor it mmaps (zero copy, like QEMU's
/// memory-backend-memfd); `.messages` registers the window without one, so
/// the server reaches it with DMA_READ/DMA_WRITE answered by the client's
/// `messageMemory`. Memory is handed out by a page-granular bump allocator:
/// the host driver takes its queues and buffers once, at setup.
public final class GuestRAM {
  public enum Sharing: String, Sendable, CaseIterable {
    case memfd
    case messages
  }

  public static let pageSize = 4096

  public let base: UInt64
  public let size: Int
  public let sharing: Sharing
  /// Where this process sees the window.
  public let bytes: UnsafeMutableRawBufferPointer
  private let client: VFIOUserClient
  private var mapping: MemoryMapping?
  private var next = 0
  private var mapped = true

  /// Creates the memory and registers it with DMA_MAP at guest address `base`
  /// (page aligned). `size` is rounded up to whole pages.
  public init(
    client: VFIOUserClient, base: UInt64, size: Int, sharing: Sharing = .memfd,
    name: String = "nvme-host-ram"
  ) throws(Errno) {
    let pageMask = Self.pageSize - 1
    guard size > 0, size <= Int.max - pageMask, base & UInt64(pageMask) == 0 else {
      throw .invalidArgument
    }
    let rounded = (size + pageMask) & ~pageMask
    guard !base.addingReportingOverflow(UInt64(rounded)).overflow else { throw .invalidArgument }
    self.client = client
    self.base = base
    self.size = rounded
    self.sharing = sharing
    switch sharing {
    case .memfd:
      let fd = try SharedMemory.create(name: name, size: UInt64(rounded))
      // The mapping keeps the memory alive; the descriptor is only needed
      // long enough to send it, and closes when this scope ends.
      let mapping = try MemoryMapping.map(
        fd: fd, offset: 0, length: UInt64(rounded), access: .readWrite)
      do {
        try client.dmaMap(address: base, size: UInt64(rounded), fd: fd)
      } catch {
        mapping.unmap()
        throw error
      }
      self.mapping = mapping
      bytes = mapping.buffer
    case .messages:
      bytes = client.messageMemory.add(address: base, size: rounded)
      do {
        try client.dmaMap(address: base, size: UInt64(rounded), fd: nil)
      } catch {
        client.messageMemory.remove(address: base)
        throw error
      }
    }
  }

  deinit { releaseLocally() }

  /// Bytes handed out so far (page granular).
  public var used: Int { next }

  /// `count` zeroed bytes aligned to `alignment` (a power of two, at most a
  /// page); ENOSPC when the window is exhausted.
  public func allocate(_ count: Int, alignment: Int = GuestRAM.pageSize) throws(Errno)
    -> GuestBuffer
  {
    guard count > 0, alignment > 0, alignment & (alignment - 1) == 0,
      alignment <= Self.pageSize
    else { throw .invalidArgument }
    let start = (next + alignment - 1) & ~(alignment - 1)
    guard start <= size, count <= size - start else { throw .noSpace }
    next = start + count
    let slice = UnsafeMutableRawBufferPointer(rebasing: bytes[start..<start + count])
    slice.initializeMemory(as: UInt8.self, repeating: 0)
    return GuestBuffer(address: base &+ UInt64(start), bytes: slice)
  }

  /// Whole pages: the unit queues and PRP-described buffers want.
  public func allocatePages(_ count: Int) throws(Errno) -> GuestBuffer {
    guard count > 0, count <= Int.max / Self.pageSize else { throw .invalidArgument }
    return try allocate(count * Self.pageSize)
  }

  /// The buffer at guest `address`, if the range lies in this window.
  public func buffer(at address: UInt64, count: Int) -> GuestBuffer? {
    guard address >= base, count >= 0 else { return nil }
    let offset = address - base
    guard offset <= UInt64(size), UInt64(count) <= UInt64(size) - offset else { return nil }
    let start = Int(offset)
    return GuestBuffer(
      address: address, bytes: UnsafeMutableRawBufferPointer(rebasing: bytes[start..<start + count])
    )
  }

  /// Tells the server the window is gone (DMA_UNMAP; the server replies once
  /// no in-flight I/O uses it), then releases it here.
  public func unmap() throws(Errno) {
    guard mapped else { return }
    try client.dmaUnmap(address: base, size: UInt64(size))
    releaseLocally()
  }

  /// Releases the memory without a message (the connection is gone or going).
  public func releaseLocally() {
    guard mapped else { return }
    mapped = false
    switch sharing {
    case .memfd: mapping?.unmap()
    case .messages: client.messageMemory.remove(address: base)
    }
    mapping = nil
  }
}
