import POSIX

/// VFIO_USER_DMA_MAP request (32 bytes).
public struct DMAMapRequest: Equatable, Sendable, WireCodable {
  public static let size = 32
  public static let readable: UInt32 = 1 << 0
  public static let writable: UInt32 = 1 << 1

  public var argsz: UInt32
  public var flags: UInt32
  public var offset: UInt64
  public var address: UInt64
  public var size: UInt64

  public init(
    argsz: UInt32 = UInt32(Self.size), flags: UInt32, offset: UInt64, address: UInt64, size: UInt64
  ) {
    self.argsz = argsz
    self.flags = flags
    self.offset = offset
    self.address = address
    self.size = size
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    offset = try reader.read()
    address = try reader.read()
    size = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(offset)
    writer.write(address)
    writer.write(size)
  }
}

/// VFIO_USER_DMA_UNMAP request and reply (24 bytes).
public struct DMAUnmapRequest: Equatable, Sendable, WireCodable {
  public static let size = 24
  /// VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP: migration only; refused here.
  public static let getDirtyBitmap: UInt32 = 1 << 0
  /// VFIO_DMA_UNMAP_FLAG_ALL: QEMU sends it to drop every mapping at once.
  public static let all: UInt32 = 1 << 1

  public var argsz: UInt32
  public var flags: UInt32
  public var address: UInt64
  public var size: UInt64

  public init(argsz: UInt32 = UInt32(Self.size), flags: UInt32 = 0, address: UInt64, size: UInt64) {
    self.argsz = argsz
    self.flags = flags
    self.address = address
    self.size = size
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    address = try reader.read()
    size = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(address)
    writer.write(size)
  }
}

/// VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE (server -> client).
///
/// The spec puts a 64-bit count and the data at payload offset 16, and QEMU 11.1 does
/// the same (seen on the wire: its DMA_READ replies carry a 64-bit count). Earlier
/// revisions of QEMU's patch series used a 32-bit count with the data at offset 12 and
/// 4 pad bytes after it; `.qemu` speaks that, for peers built from those revisions.
public enum DMAMessageLayout: String, Sendable, CaseIterable {
  case spec
  case qemu

  /// Bytes in front of the data.
  public var headerSize: Int { self == .spec ? 16 : 12 }
  /// Bytes a message carries beyond header and data.
  public var trailingPad: Int { self == .spec ? 0 : 4 }

  public func encode(address: UInt64, count: Int, data: UnsafeRawBufferPointer?) -> [UInt8] {
    var writer = WireWriter(capacity: headerSize + count + trailingPad)
    writer.write(address)
    switch self {
    case .spec: writer.write(UInt64(count))
    case .qemu: writer.write(UInt32(clamping: count))
    }
    if let data { writer.append(data) }
    writer.pad(to: headerSize + (data?.count ?? 0) + trailingPad)
    return writer.bytes
  }

  /// Decodes address, count and where the data starts; the data must be all there.
  public func decode(_ payload: [UInt8], expectData: Bool) throws(Errno) -> (
    address: UInt64, count: Int, dataOffset: Int
  ) {
    var reader = WireReader(payload)
    let address: UInt64 = try reader.read()
    let rawCount: UInt64 =
      switch self {
      case .spec: try reader.read(UInt64.self)
      case .qemu: UInt64(try reader.read(UInt32.self))
      }
    guard let count = Int(exactly: rawCount) else { throw .invalidArgument }
    if expectData {
      guard payload.count - headerSize >= count else { throw .invalidArgument }
    }
    return (address, count, headerSize)
  }
}
