import Glibc
import POSIX

/// The client's DMA windows: the map table, address translation and copies.
///
/// Owned by one thread (the reactor); not Sendable. Every address and length that
/// reaches it is untrusted: translation succeeds only for a range wholly inside one
/// window with the needed permission.
public final class DMASpace {
  private struct Entry {
    var region: DMARegion
    var mapping: MemoryMapping?
  }

  /// Sorted by address, never overlapping.
  private var entries: [Entry] = []
  /// The window the last translation hit: guest I/O is strongly local. An
  /// index read or assigned whole, so unchecked (it is read per request).
  @exclusivity(unchecked) private var lastHit = 0

  public var maxMappings: Int
  public var pageSize: UInt64
  public weak var remote: (any RemoteDMA)?

  public init(maxMappings: Int = 65535, pageSize: UInt64 = 4096) {
    self.maxMappings = maxMappings
    self.pageSize = pageSize
  }

  deinit { removeAll() }

  public var regions: [DMARegion] { entries.map(\.region) }
  public var count: Int { entries.count }

  /// Validates and records a window; mmaps `fd` when given (the mapping outlives `fd`,
  /// which this does not keep).
  /// EINVAL for zero or unaligned sizes, wrap-around or unknown flags; EEXIST on overlap;
  /// ENOSPC past the map limit.
  @discardableResult
  public func add(_ request: DMAMapRequest, fd: FileDescriptor?) throws(Errno) -> DMARegion {
    let known = DMAMapRequest.readable | DMAMapRequest.writable
    guard request.flags & ~known == 0, request.size > 0 else { throw .invalidArgument }
    let mask = pageSize &- 1
    guard request.address & mask == 0, request.size & mask == 0 else { throw .invalidArgument }
    guard request.address.addingReportingOverflow(request.size).overflow == false else {
      throw .invalidArgument
    }
    if fd != nil, request.offset & mask != 0 { throw .invalidArgument }
    let region = DMARegion(
      address: request.address, size: request.size,
      readable: request.flags & DMAMapRequest.readable != 0,
      writable: request.flags & DMAMapRequest.writable != 0, isMapped: fd != nil)
    let slot = insertionIndex(for: region.address)
    if slot > 0, entries[slot - 1].region.overlaps(region) { throw .exists }
    if slot < entries.count, entries[slot].region.overlaps(region) { throw .exists }
    guard entries.count < maxMappings else { throw .noSpace }
    var mapping: MemoryMapping?
    if let fd {
      try Self.checkBacking(fd: fd, offset: request.offset, size: request.size)
      let mapped = try MemoryMapping.map(
        fd: fd, offset: request.offset, length: request.size,
        access: .init(read: region.readable, write: region.writable))
      // The client may shrink the file later; see `DMAFaultGuard`.
      guard DMAFaultGuard.watch(mapped) else {
        mapped.unmap()
        throw .noSpace
      }
      mapping = mapped
    }
    entries.insert(Entry(region: region, mapping: mapping), at: slot)
    return region
  }

  /// A window must lie inside its file: mmap accepts a range past the end of
  /// a memfd or file, but touching those pages raises SIGBUS, which would
  /// kill the server at the guest's first access (found by the vfio-stream
  /// fuzz target). Descriptors that are not regular files (/dev/zero) have no
  /// such end; their mmap succeeds or fails on its own.
  static func checkBacking(fd: FileDescriptor, offset: UInt64, size: UInt64) throws(Errno) {
    var st = stat()
    guard fstat(fd.rawValue, &st) == 0 else { throw .current }
    guard st.st_mode & S_IFMT == S_IFREG else { return }
    let (end, overflow) = offset.addingReportingOverflow(size)
    guard !overflow, end <= UInt64(clamping: st.st_size) else { throw .invalidArgument }
  }

  private static func release(_ mapping: MemoryMapping?) {
    guard let mapping else { return }
    DMAFaultGuard.unwatch(mapping)
    mapping.unmap()
  }

  /// The window that exactly matches (address, size), if any.
  public func find(address: UInt64, size: UInt64) -> DMARegion? {
    guard let i = index(containing: address), entries[i].region.address == address,
      entries[i].region.size == size
    else { return nil }
    return entries[i].region
  }

  /// Removes (and munmaps) the window that exactly matches; ENOENT when none does.
  @discardableResult
  public func remove(address: UInt64, size: UInt64) throws(Errno) -> DMARegion {
    guard let i = index(containing: address), entries[i].region.address == address,
      entries[i].region.size == size
    else { throw .notFound }
    let entry = entries.remove(at: i)
    Self.release(entry.mapping)
    lastHit = 0
    return entry.region
  }

  public func removeAll() {
    for entry in entries { Self.release(entry.mapping) }
    entries.removeAll()
    lastHit = 0
  }

  /// A pointer to `length` bytes at `address` in mapped memory, or nil when the range
  /// leaves a window, is not mapped, or lacks the permission.
  @inline(__always)
  public func translate(_ address: UInt64, length: Int, write: Bool)
    -> UnsafeMutableRawBufferPointer?
  {
    guard length >= 0 else { return nil }
    let wanted = UInt64(length)
    let i: Int
    if lastHit < entries.count, entries[lastHit].region.contains(address, length: wanted) {
      i = lastHit
    } else {
      guard let found = index(containing: address),
        entries[found].region.contains(address, length: wanted)
      else { return nil }
      i = found
      lastHit = found
    }
    let entry = entries[i]
    guard let mapping = entry.mapping, write ? entry.region.writable : entry.region.readable else {
      return nil
    }
    let offset = Int(address - entry.region.address)
    return UnsafeMutableRawBufferPointer(start: mapping.base + offset, count: length)
  }

  /// Copies guest memory into `buffer`, through the mapping or by DMA_READ messages.
  public func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno)
  {
    if let source = translate(address, length: buffer.count, write: false) {
      if buffer.count > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(source)) }
      return
    }
    let region = try remoteRegion(address, length: buffer.count)
    guard region.readable, let remote else { throw .badAddress }
    try remote.remoteRead(address: address, into: buffer)
  }

  /// Copies `buffer` into guest memory, through the mapping or by DMA_WRITE messages.
  public func write(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno) {
    if let target = translate(address, length: buffer.count, write: true) {
      if buffer.count > 0 { target.copyMemory(from: buffer) }
      return
    }
    let region = try remoteRegion(address, length: buffer.count)
    guard region.writable, let remote else { throw .badAddress }
    try remote.remoteWrite(address: address, from: buffer)
  }

  private func remoteRegion(_ address: UInt64, length: Int) throws(Errno) -> DMARegion {
    guard length >= 0, let i = index(containing: address),
      entries[i].region.contains(address, length: UInt64(length)), !entries[i].region.isMapped
    else { throw .badAddress }
    return entries[i].region
  }

  /// The entry whose window contains `address`.
  private func index(containing address: UInt64) -> Int? {
    let slot = insertionIndex(for: address &+ 1)
    guard slot > 0 else { return nil }
    let candidate = entries[slot - 1].region
    return address >= candidate.address && address < candidate.end ? slot - 1 : nil
  }

  /// The first index whose address is >= `address` (binary search).
  private func insertionIndex(for address: UInt64) -> Int {
    var low = 0
    var high = entries.count
    while low < high {
      let mid = (low + high) / 2
      if entries[mid].region.address < address { low = mid + 1 } else { high = mid }
    }
    return low
  }
}
