/// Reads a fuzz input front to back. Never traps: past the end every read
/// yields zeroes, so a truncated input is still a valid one and the fuzzer
/// can cut anywhere.
struct ByteCursor {
  private let bytes: [UInt8]
  private(set) var offset = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  var isAtEnd: Bool { offset >= bytes.count }
  var remaining: Int { max(0, bytes.count - offset) }

  mutating func u8() -> UInt8 {
    guard offset < bytes.count else { return 0 }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
  mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
  mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }

  /// Up to `count` bytes (fewer at the end of the input).
  mutating func take(_ count: Int) -> [UInt8] {
    let n = min(max(0, count), remaining)
    defer { offset += n }
    return Array(bytes[offset..<offset + n])
  }
}

/// Builds inputs in the formats the cursor reads (seeds and tests).
struct ByteWriter {
  private(set) var bytes: [UInt8] = []

  mutating func u8(_ value: UInt8) { bytes.append(value) }
  mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func append(_ data: [UInt8]) { bytes += data }
}
