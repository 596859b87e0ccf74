/// The data the fault tests write: every 512-byte block names its LBA and
/// the write that put it there (a stamp, e.g. iteration << 32 | sequence),
/// and every other word is derived from both, so a block from another
/// place, another write, a torn write or a hole does not parse.
enum BlockStamp {
  static let blockSize = 512
  static let magic: UInt64 = 0x4E56_4655_4641_4C54  // "NVFUFALT"

  static func word(_ index: Int, lba: UInt64, stamp: UInt64) -> UInt64 {
    switch index {
    case 0: return lba
    case 1: return stamp
    case 2: return magic
    default:
      return (lba &* 0x9E37_79B9_7F4A_7C15) ^ (stamp &* 0xC2B2_AE3D_27D4_EB4F)
        ^ (UInt64(index) &* 0x1656_67B1_9E37_79F9)
    }
  }

  /// Fills every block of `buffer` (a multiple of 512 bytes), the first
  /// one being `lba`.
  static func fill(_ buffer: UnsafeMutableRawBufferPointer, lba: UInt64, stamp: UInt64) {
    for block in 0..<buffer.count / blockSize {
      for index in 0..<blockSize / 8 {
        buffer.storeBytes(
          of: word(index, lba: lba &+ UInt64(block), stamp: stamp).littleEndian,
          toByteOffset: block * blockSize + index * 8, as: UInt64.self)
      }
    }
  }

  /// The stamp of the 512-byte block at `offset` in `bytes`, which should
  /// hold LBA `lba`; nil when it is anything but a whole stamped block for
  /// that LBA.
  static func stamp(in bytes: UnsafeRawBufferPointer, at offset: Int = 0, lba: UInt64) -> UInt64? {
    guard offset >= 0, offset + blockSize <= bytes.count else { return nil }
    func load(_ index: Int) -> UInt64 {
      UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + index * 8, as: UInt64.self))
    }
    let stamp = load(1)
    for index in 0..<blockSize / 8 where load(index) != word(index, lba: lba, stamp: stamp) {
      return nil
    }
    return stamp
  }
}
