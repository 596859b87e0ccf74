/// Records both input formats share: record 3 writes bytes into a memory
/// (a guest window or a client memfd), record 4 sets a doorbell.
extension ByteWriter {
  /// Record 3, as many times as it takes: each carries at most 255 bytes.
  mutating func pokeRecords(target: UInt8, offset: UInt32, _ bytes: [UInt8]) {
    for start in stride(from: 0, to: bytes.count, by: 255) {
      let piece = bytes[start..<min(bytes.count, start + 255)]
      u8(3)
      u8(target)
      u32(offset &+ UInt32(start))
      u8(UInt8(piece.count))
      append(Array(piece))
    }
  }

  /// Record 4: doorbell `slot` gets `value`.
  mutating func doorbellRecord(slot: UInt16, _ value: UInt32) {
    u8(4)
    u16(slot)
    u32(value)
  }
}
