/// How the data pointer (DPTR) and metadata pointer (MPTR) of a command are
/// to be read: CDW0 bits 15:14 (PSDT).
public enum DataPointerType: UInt8, Sendable, Hashable {
  /// DPTR holds PRP1/PRP2; MPTR is a contiguous metadata buffer.
  case prp = 0
  /// DPTR holds an SGL descriptor; MPTR is a contiguous metadata buffer.
  case sglContiguousMetadata = 1
  /// DPTR holds an SGL descriptor; MPTR addresses a metadata SGL segment.
  case sglMetadataSegment = 2
  /// 11b is reserved: commands using it fail with Invalid Field.
  case reserved = 3

  public var usesSGL: Bool { self == .sglContiguousMetadata || self == .sglMetadataSegment }
}

/// Fused operation (CDW0 bits 9:8).
public enum FusedOperation: UInt8, Sendable, Hashable {
  case normal = 0
  case firstCommand = 1
  case secondCommand = 2
  case reserved = 3
}

/// A 64-byte submission queue entry (NVMe Base 2.0, figure 88), as a value.
///
/// SQEs live in guest memory and the guest can rewrite them while we look, so
/// the queue code copies the 64 bytes out exactly once with `init(bytes:)` and
/// from then on only this value is consulted.
public struct SubmissionQueueEntry: Sendable, Hashable {
  public static let size = 64

  public var opcode: UInt8
  /// CDW0 bits 15:8: FUSE in bits 1:0, PSDT in bits 7:6, the rest reserved.
  public var flags: UInt8
  public var commandIdentifier: UInt16
  public var namespaceIdentifier: UInt32
  public var cdw2: UInt32
  public var cdw3: UInt32
  public var metadataPointer: UInt64
  /// DPTR bytes 24..31: PRP entry 1, or the SGL descriptor's address.
  public var prp1: UInt64
  /// DPTR bytes 32..39: PRP entry 2, or the SGL descriptor's length and type.
  public var prp2: UInt64
  public var cdw10: UInt32
  public var cdw11: UInt32
  public var cdw12: UInt32
  public var cdw13: UInt32
  public var cdw14: UInt32
  public var cdw15: UInt32

  public init(
    opcode: UInt8, flags: UInt8 = 0, commandIdentifier: UInt16, namespaceIdentifier: UInt32 = 0,
    cdw2: UInt32 = 0, cdw3: UInt32 = 0, metadataPointer: UInt64 = 0,
    prp1: UInt64 = 0, prp2: UInt64 = 0,
    cdw10: UInt32 = 0, cdw11: UInt32 = 0, cdw12: UInt32 = 0,
    cdw13: UInt32 = 0, cdw14: UInt32 = 0, cdw15: UInt32 = 0
  ) {
    self.opcode = opcode
    self.flags = flags
    self.commandIdentifier = commandIdentifier
    self.namespaceIdentifier = namespaceIdentifier
    self.cdw2 = cdw2
    self.cdw3 = cdw3
    self.metadataPointer = metadataPointer
    self.prp1 = prp1
    self.prp2 = prp2
    self.cdw10 = cdw10
    self.cdw11 = cdw11
    self.cdw12 = cdw12
    self.cdw13 = cdw13
    self.cdw14 = cdw14
    self.cdw15 = cdw15
  }

  /// Decodes an entry, reading each byte of `bytes` once. Returns nil when
  /// fewer than 64 bytes are given.
  public init?(bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= Self.size else { return nil }
    let cdw0 = WireBytes.load(UInt32.self, bytes, 0)
    opcode = UInt8(truncatingIfNeeded: cdw0)
    flags = UInt8(truncatingIfNeeded: cdw0 >> 8)
    commandIdentifier = UInt16(truncatingIfNeeded: cdw0 >> 16)
    namespaceIdentifier = WireBytes.load(UInt32.self, bytes, 4)
    cdw2 = WireBytes.load(UInt32.self, bytes, 8)
    cdw3 = WireBytes.load(UInt32.self, bytes, 12)
    metadataPointer = WireBytes.load(UInt64.self, bytes, 16)
    prp1 = WireBytes.load(UInt64.self, bytes, 24)
    prp2 = WireBytes.load(UInt64.self, bytes, 32)
    cdw10 = WireBytes.load(UInt32.self, bytes, 40)
    cdw11 = WireBytes.load(UInt32.self, bytes, 44)
    cdw12 = WireBytes.load(UInt32.self, bytes, 48)
    cdw13 = WireBytes.load(UInt32.self, bytes, 52)
    cdw14 = WireBytes.load(UInt32.self, bytes, 56)
    cdw15 = WireBytes.load(UInt32.self, bytes, 60)
  }

  /// Convenience for tests and the client: decode from an array.
  public init?(bytes: [UInt8]) {
    guard let entry = bytes.withUnsafeBytes({ Self(bytes: $0) }) else { return nil }
    self = entry
  }

  /// CDW0 as it sits on the wire.
  public var cdw0: UInt32 {
    UInt32(opcode) | UInt32(flags) << 8 | UInt32(commandIdentifier) << 16
  }

  public var fusedOperation: FusedOperation {
    get { FusedOperation(rawValue: flags & 0x3) ?? .reserved }
    set { flags = (flags & ~0x3) | newValue.rawValue }
  }

  public var dataPointerType: DataPointerType {
    get { DataPointerType(rawValue: flags >> 6) ?? .reserved }
    set { flags = (flags & 0x3F) | newValue.rawValue << 6 }
  }

  /// DPTR read as an SGL descriptor (meaningful when PSDT says SGL).
  public var sglDescriptor: SGLDescriptor {
    get { SGLDescriptor(dptrLow: prp1, dptrHigh: prp2) }
    set {
      prp1 = newValue.address
      prp2 = newValue.dptrHigh
    }
  }

  /// Writes the 64-byte wire image into `buffer` (nothing if it is too small).
  public func encode(into buffer: UnsafeMutableRawBufferPointer) {
    guard buffer.count >= Self.size else { return }
    WireBytes.store(cdw0, buffer, 0)
    WireBytes.store(namespaceIdentifier, buffer, 4)
    WireBytes.store(cdw2, buffer, 8)
    WireBytes.store(cdw3, buffer, 12)
    WireBytes.store(metadataPointer, buffer, 16)
    WireBytes.store(prp1, buffer, 24)
    WireBytes.store(prp2, buffer, 32)
    WireBytes.store(cdw10, buffer, 40)
    WireBytes.store(cdw11, buffer, 44)
    WireBytes.store(cdw12, buffer, 48)
    WireBytes.store(cdw13, buffer, 52)
    WireBytes.store(cdw14, buffer, 56)
    WireBytes.store(cdw15, buffer, 60)
  }

  /// The 64-byte wire image.
  public func encode() -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: Self.size)
    bytes.withUnsafeMutableBytes { encode(into: $0) }
    return bytes
  }
}
