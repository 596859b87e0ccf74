import POSIX

/// VFIO_USER_REGION_READ / REGION_WRITE fixed part (16 bytes), then data.
public struct RegionAccess: Equatable, Sendable, WireCodable {
  public static let size = 16

  public var offset: UInt64
  public var region: UInt32
  public var count: UInt32

  public init(offset: UInt64, region: UInt32, count: UInt32) {
    self.offset = offset
    self.region = region
    self.count = count
  }

  public init(from reader: inout WireReader) throws(Errno) {
    offset = try reader.read()
    region = try reader.read()
    count = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(offset)
    writer.write(region)
    writer.write(count)
  }
}

/// One entry of VFIO_USER_REGION_WRITE_MULTI (24 bytes: at most 8 data bytes).
public struct RegionWriteOne: Equatable, Sendable, WireCodable {
  public static let size = 24
  public static let maxData = 8
  /// QEMU's VFIO_USER_MULTI_MAX: more entries than this in one message is refused.
  public static let maxEntries = 200

  public var access: RegionAccess
  public var data: [UInt8]

  public init(offset: UInt64, region: UInt32, data: [UInt8]) {
    access = RegionAccess(offset: offset, region: region, count: UInt32(data.count))
    self.data = data
  }

  public init(from reader: inout WireReader) throws(Errno) {
    access = try RegionAccess(from: &reader)
    let bytes = try reader.take(Self.maxData)
    guard access.count <= Self.maxData else { throw .invalidArgument }
    data = Array(bytes.prefix(Int(access.count)))
  }

  public func encode(to writer: inout WireWriter) {
    access.encode(to: &writer)
    writer.append(data.prefix(Self.maxData))
    writer.append(repeatElement(0, count: Self.maxData - min(data.count, Self.maxData)))
  }
}
