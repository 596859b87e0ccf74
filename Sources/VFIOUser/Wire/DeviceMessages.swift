import POSIX

/// VFIO_USER_DEVICE_GET_INFO request and reply (16 bytes).
public struct DeviceInfo: Equatable, Sendable, WireCodable {
  public static let size = 16
  public static let flagReset: UInt32 = 1 << 0
  public static let flagPCI: UInt32 = 1 << 1

  public var argsz: UInt32
  public var flags: UInt32
  public var numRegions: UInt32
  public var numIRQs: UInt32

  public init(argsz: UInt32 = UInt32(Self.size), flags: UInt32, numRegions: UInt32, numIRQs: UInt32)
  {
    self.argsz = argsz
    self.flags = flags
    self.numRegions = numRegions
    self.numIRQs = numIRQs
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    numRegions = try reader.read()
    numIRQs = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(numRegions)
    writer.write(numIRQs)
  }
}

/// VFIO_USER_DEVICE_GET_REGION_INFO fixed part (32 bytes), request and reply.
public struct RegionInfo: Equatable, Sendable, WireCodable {
  public static let size = 32
  public static let flagRead: UInt32 = 1 << 0
  public static let flagWrite: UInt32 = 1 << 1
  public static let flagMmap: UInt32 = 1 << 2
  public static let flagCaps: UInt32 = 1 << 3

  public var argsz: UInt32
  public var flags: UInt32
  public var index: UInt32
  public var capOffset: UInt32
  public var size: UInt64
  public var offset: UInt64

  public init(
    argsz: UInt32 = UInt32(Self.size), flags: UInt32 = 0, index: UInt32, capOffset: UInt32 = 0,
    size: UInt64 = 0, offset: UInt64 = 0
  ) {
    self.argsz = argsz
    self.flags = flags
    self.index = index
    self.capOffset = capOffset
    self.size = size
    self.offset = offset
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    index = try reader.read()
    capOffset = try reader.read()
    size = try reader.read()
    offset = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(index)
    writer.write(capOffset)
    writer.write(size)
    writer.write(offset)
  }
}

/// One mappable window of a region, relative to the region's mmap offset.
public struct SparseArea: Equatable, Sendable {
  public var offset: UInt64
  public var size: UInt64

  public init(offset: UInt64, size: UInt64) {
    self.offset = offset
    self.size = size
  }
}

/// VFIO_REGION_INFO_CAP_SPARSE_MMAP (id 1, version 1): which parts of a region map.
public struct SparseMmapCapability: Equatable, Sendable, WireCodable {
  public static let id: UInt16 = 1
  public static let version: UInt16 = 1

  public var next: UInt32
  public var areas: [SparseArea]

  public init(next: UInt32 = 0, areas: [SparseArea]) {
    self.next = next
    self.areas = areas
  }

  public var encodedSize: Int { 16 + 16 * areas.count }

  public init(from reader: inout WireReader) throws(Errno) {
    let id: UInt16 = try reader.read()
    let version: UInt16 = try reader.read()
    guard id == Self.id, version == Self.version else { throw .invalidArgument }
    next = try reader.read()
    let count: UInt32 = try reader.read()
    _ = try reader.read(UInt32.self)
    // Bound by what is actually there, never by the count field alone.
    guard Int(count) <= reader.remaining / 16 else { throw .invalidArgument }
    areas = []
    for _ in 0..<count {
      areas.append(SparseArea(offset: try reader.read(), size: try reader.read()))
    }
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(Self.id)
    writer.write(Self.version)
    writer.write(next)
    writer.write(UInt32(areas.count))
    writer.write(UInt32(0))
    for area in areas {
      writer.write(area.offset)
      writer.write(area.size)
    }
  }
}

/// VFIO_USER_DEVICE_GET_REGION_IO_FDS request and reply header (16 bytes).
public struct RegionIOFDsInfo: Equatable, Sendable, WireCodable {
  public static let size = 16

  public var argsz: UInt32
  public var flags: UInt32
  public var index: UInt32
  public var count: UInt32

  public init(
    argsz: UInt32 = UInt32(Self.size), flags: UInt32 = 0, index: UInt32, count: UInt32 = 0
  ) {
    self.argsz = argsz
    self.flags = flags
    self.index = index
    self.count = count
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    index = try reader.read()
    count = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(index)
    writer.write(count)
  }
}
