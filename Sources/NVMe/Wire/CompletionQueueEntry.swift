/// A 16-byte completion queue entry (NVMe Base 2.0, figure 90).
///
/// Layout: DW0 command specific, DW1 command specific, DW2 = SQ head (15:0) and
/// SQ identifier (31:16), DW3 = CID (15:0), phase tag (16), status (31:17).
///
/// Ordering: the guest polls the phase tag, which lives in DW3. A writer must
/// make DW0..DW2 visible before DW3; `encode(into:)` stores DW3 last, and a
/// writer into shared memory that needs a real ordering guarantee stores
/// `leadingDwords` first and then `dword3` with a release store.
public struct CompletionQueueEntry: Sendable, Hashable {
  public static let size = 16

  public var dw0: UInt32
  public var dw1: UInt32
  public var submissionQueueHead: UInt16
  public var submissionQueueIdentifier: UInt16
  public var commandIdentifier: UInt16
  public var status: NVMeStatus
  public var phase: Bool

  public init(
    dw0: UInt32 = 0, dw1: UInt32 = 0, submissionQueueHead: UInt16,
    submissionQueueIdentifier: UInt16, commandIdentifier: UInt16,
    status: NVMeStatus = .success, phase: Bool
  ) {
    self.dw0 = dw0
    self.dw1 = dw1
    self.submissionQueueHead = submissionQueueHead
    self.submissionQueueIdentifier = submissionQueueIdentifier
    self.commandIdentifier = commandIdentifier
    self.status = status
    self.phase = phase
  }

  /// Decodes an entry (for the client and tests); nil when under 16 bytes.
  public init?(bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= Self.size else { return nil }
    dw0 = WireBytes.load(UInt32.self, bytes, 0)
    dw1 = WireBytes.load(UInt32.self, bytes, 4)
    let dw2 = WireBytes.load(UInt32.self, bytes, 8)
    let dw3 = WireBytes.load(UInt32.self, bytes, 12)
    submissionQueueHead = UInt16(truncatingIfNeeded: dw2)
    submissionQueueIdentifier = UInt16(truncatingIfNeeded: dw2 >> 16)
    commandIdentifier = UInt16(truncatingIfNeeded: dw3)
    let statusField = UInt16(truncatingIfNeeded: dw3 >> 16)
    phase = statusField & 1 != 0
    status = NVMeStatus(encoded: statusField >> 1)
  }

  public init?(bytes: [UInt8]) {
    guard let entry = bytes.withUnsafeBytes({ Self(bytes: $0) }) else { return nil }
    self = entry
  }

  public var dword2: UInt32 {
    UInt32(submissionQueueHead) | UInt32(submissionQueueIdentifier) << 16
  }

  /// The 16-bit status field: phase tag in bit 0, status in bits 15:1.
  public var statusField: UInt16 { status.encoded << 1 | (phase ? 1 : 0) }

  /// DW3: CID and the status field, including the phase tag.
  public var dword3: UInt32 { UInt32(commandIdentifier) | UInt32(statusField) << 16 }

  /// Stores DW0..DW2 only; pair with a release store of `dword3` at offset 12.
  public func encodeLeading(into buffer: UnsafeMutableRawBufferPointer) {
    guard buffer.count >= Self.size else { return }
    WireBytes.store(dw0, buffer, 0)
    WireBytes.store(dw1, buffer, 4)
    WireBytes.store(dword2, buffer, 8)
  }

  /// Stores the whole entry, DW3 (the phase-tag dword) last.
  public func encode(into buffer: UnsafeMutableRawBufferPointer) {
    guard buffer.count >= Self.size else { return }
    encodeLeading(into: buffer)
    WireBytes.store(dword3, buffer, 12)
  }

  public func encode() -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: Self.size)
    bytes.withUnsafeMutableBytes { encode(into: $0) }
    return bytes
  }
}
