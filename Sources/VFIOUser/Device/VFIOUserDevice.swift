import POSIX

/// How a region can be mmapped by the client.
public struct RegionMmap: Sendable {
  /// The device's descriptor; the server sends a copy with each region-info reply and
  /// never closes the device's own.
  public var fd: FileDescriptor
  /// File offset of the region's first byte (what the client passes to mmap()).
  public var offset: UInt64
  /// When set, only these windows (relative to `offset`) may be mapped: sparse mmap.
  public var sparseAreas: [SparseArea]?

  public init(fd: FileDescriptor, offset: UInt64 = 0, sparseAreas: [SparseArea]? = nil) {
    self.fd = fd
    self.offset = offset
    self.sparseAreas = sparseAreas
  }
}

/// One region as the device describes it. Size 0 means "not implemented".
public struct RegionDescription: Sendable {
  public var size: UInt64
  public var readable: Bool
  public var writable: Bool
  public var mmap: RegionMmap?

  public init(size: UInt64, readable: Bool = true, writable: Bool = true, mmap: RegionMmap? = nil) {
    self.size = size
    self.readable = readable
    self.writable = writable
    self.mmap = mmap
  }

  public static let absent = RegionDescription(size: 0, readable: false, writable: false)
}

/// What a device model implements to be served over vfio-user. All calls come from the
/// server's own thread. Errors thrown become error replies carrying their errno.
public protocol VFIOUserDevice: AnyObject {
  /// VFIO_DEVICE_FLAGS_* (reset, PCI).
  var deviceFlags: UInt32 { get }
  var regionCount: Int { get }
  /// Every index below `regionCount` has a description (use `.absent` for holes).
  func region(_ index: Int) -> RegionDescription
  /// One entry per interrupt type, `index` matching the position.
  var irqInfos: [IRQInfo] { get }

  /// Bounds against `region(index).size` are checked by the server before these calls.
  func readRegion(_ index: Int, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno)
  func writeRegion(_ index: Int, offset: UInt64, from data: UnsafeRawBufferPointer)
    throws(Errno)
  func reset() throws(Errno)

  /// Called once when the server is built: the tables the device uses for DMA and IRQs.
  func attach(dma: DMASpace, irqs: IRQTable)
  func dmaMapped(_ region: DMARegion)
  /// The window goes away after this returns: finish or abort every access to it first.
  func dmaWillUnmap(_ region: DMARegion)
  func irqsChanged(index: Int)
  func clientConnected()
  /// DMA windows and IRQ descriptors are already released; device state is kept.
  func clientDisconnected()
}

extension VFIOUserDevice {
  public func attach(dma: DMASpace, irqs: IRQTable) {}
  public func dmaMapped(_ region: DMARegion) {}
  public func dmaWillUnmap(_ region: DMARegion) {}
  public func irqsChanged(index: Int) {}
  public func clientConnected() {}
  public func clientDisconnected() {}
}
