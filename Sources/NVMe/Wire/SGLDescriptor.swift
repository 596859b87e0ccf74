/// SGL descriptor type, bits 7:4 of the SGL identifier (NVMe Base 2.0, figure 116).
public enum SGLDescriptorType: UInt8, Sendable, Hashable {
  case dataBlock = 0x0
  case bitBucket = 0x1
  case segment = 0x2
  case lastSegment = 0x3
  case keyedDataBlock = 0x4
  case transportDataBlock = 0x5
  case vendorSpecific = 0xF
}

/// A 16-byte SGL descriptor: address (bytes 0..7), length (8..11), reserved
/// (12..14) and the SGL identifier (15: type in bits 7:4, subtype in 3:0).
///
/// The type is kept raw because reserved values must reach the validator,
/// which answers them with SGL Descriptor Type Invalid.
public struct SGLDescriptor: Sendable, Hashable {
  public static let size = 16
  /// Subtype 0h: the Address field is a memory address (the only one PCIe uses).
  public static let addressSubtype: UInt8 = 0x0
  /// Subtype 1h: the Address field is an offset (NVMe over Fabrics only).
  public static let offsetSubtype: UInt8 = 0x1

  public var address: UInt64
  public var length: UInt32
  public var identifier: UInt8

  public init(address: UInt64, length: UInt32, identifier: UInt8) {
    self.address = address
    self.length = length
    self.identifier = identifier
  }

  public init(
    address: UInt64, length: UInt32, type: SGLDescriptorType,
    subtype: UInt8 = SGLDescriptor.addressSubtype
  ) {
    self.init(address: address, length: length, identifier: type.rawValue << 4 | (subtype & 0xF))
  }

  /// From the SQE's DPTR: PRP1 is the address, PRP2 carries length and identifier.
  public init(dptrLow: UInt64, dptrHigh: UInt64) {
    address = dptrLow
    length = UInt32(truncatingIfNeeded: dptrHigh)
    identifier = UInt8(truncatingIfNeeded: dptrHigh >> 56)
  }

  /// Decodes the descriptor at `offset`; nil when it would run past the buffer.
  public init?(bytes: UnsafeRawBufferPointer, at offset: Int = 0) {
    guard offset >= 0, offset <= bytes.count &- Self.size else { return nil }
    address = WireBytes.load(UInt64.self, bytes, offset)
    length = WireBytes.load(UInt32.self, bytes, offset &+ 8)
    identifier = WireBytes.load(UInt8.self, bytes, offset &+ 15)
  }

  /// Descriptor type, or nil for a reserved type code.
  public var type: SGLDescriptorType? { SGLDescriptorType(rawValue: identifier >> 4) }
  public var subtype: UInt8 { identifier & 0xF }

  /// DPTR bytes 32..39 (what goes into PRP2 when this sits in an SQE).
  public var dptrHigh: UInt64 { UInt64(length) | UInt64(identifier) << 56 }

  public func encode(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
    guard offset >= 0, offset <= buffer.count &- Self.size else { return }
    WireBytes.store(address, buffer, offset)
    WireBytes.store(length, buffer, offset &+ 8)
    WireBytes.store(UInt16(0), buffer, offset &+ 12)
    WireBytes.store(UInt8(0), buffer, offset &+ 14)
    WireBytes.store(identifier, buffer, offset &+ 15)
  }

  public func encode() -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: Self.size)
    bytes.withUnsafeMutableBytes { encode(into: $0) }
    return bytes
  }
}
