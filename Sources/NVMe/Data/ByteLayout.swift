/// A fixed-size little-endian byte image of an NVMe data structure.
///
/// Every write is clipped to the page: identify and log structures have fixed
/// sizes, and a field that would spill past the end is a programming error we
/// prefer to truncate rather than trap on (the guest never controls offsets here).
public struct DataPage: Sendable, Hashable {
  public private(set) var bytes: [UInt8]

  /// A zero-filled page; reserved fields must read as zero per the spec.
  public init(size: Int) {
    bytes = [UInt8](repeating: 0, count: max(0, size))
  }

  public var count: Int { bytes.count }

  /// Writes `value` little-endian (NVMe is little-endian on the wire) at `offset`.
  public mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    let width = T.bitWidth / 8
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { raw in
      for i in 0..<width {
        let index = offset + i
        guard index >= 0, index < bytes.count else { return }
        bytes[index] = raw[i]
      }
    }
  }

  /// Writes a 128-bit counter as two 64-bit halves (SMART counters are 16 bytes).
  public mutating func put128(low: UInt64, high: UInt64 = 0, at offset: Int) {
    put(low, at: offset)
    put(high, at: offset + 8)
  }

  /// Writes `text` as ASCII, space padded to `length` (SN/MN/FR style fields).
  /// Non-ASCII or control characters become spaces so nvme-cli prints clean text.
  public mutating func putASCII(_ text: String, at offset: Int, length: Int) {
    putText(text, at: offset, length: length, pad: 0x20)
  }

  /// Writes `text` as ASCII, NUL padded (NQN style fields are NUL terminated).
  public mutating func putNULPadded(_ text: String, at offset: Int, length: Int) {
    putText(text, at: offset, length: length, pad: 0)
  }

  /// Copies raw bytes at `offset`, truncated to the page.
  public mutating func putBytes(_ source: [UInt8], at offset: Int) {
    for (i, b) in source.enumerated() {
      let index = offset + i
      guard index >= 0, index < bytes.count else { return }
      bytes[index] = b
    }
  }

  private mutating func putText(_ text: String, at offset: Int, length: Int, pad: UInt8) {
    var encoded = [UInt8](repeating: pad, count: max(0, length))
    var i = 0
    for unit in text.utf8 {
      guard i < encoded.count else { break }
      encoded[i] = (0x20...0x7E).contains(unit) ? unit : 0x20
      i += 1
    }
    putBytes(encoded, at: offset)
  }
}

extension DataPage {
  /// Little-endian read used by decoders (host-supplied feature data) and tests;
  /// returns nil when the field would run past the end of `bytes`.
  public static func read<T: FixedWidthInteger>(
    _: T.Type, from bytes: [UInt8], at offset: Int
  ) -> T? {
    guard offset >= 0, offset <= bytes.count - MemoryLayout<T>.size else { return nil }
    return bytes.withUnsafeBytes { WireBytes.load(T.self, $0, offset) }
  }
}
