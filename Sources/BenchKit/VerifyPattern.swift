/// The --verify data pattern. Every logical block of a write carries, in
/// 64-bit words: its LBA, then the write's generation with a magic tag,
/// then words derived from both, so a block from the wrong place or the
/// wrong write (or a torn one) is caught on read.
enum VerifyPattern {
  static let magic: UInt64 = 0x5546_564E  // "NVFU"

  @inline(__always)
  static func word(_ index: Int, lba: UInt64, generation: UInt32) -> UInt64 {
    switch index {
    case 0: return lba
    case 1: return UInt64(generation) << 32 | magic
    default:
      return (lba &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(generation) &* 0xC2B2_AE3D_27D4_EB4F)
        ^ (UInt64(index) &* 0x1656_67B1_9E37_79F9)
    }
  }

  /// Fills `blocks` blocks of `blockSize` bytes starting at `lba`.
  static func fill(
    _ buffer: UnsafeMutableRawPointer, lba: UInt64, blocks: Int, blockSize: Int,
    generation: UInt32
  ) {
    let words = blockSize / 8
    for block in 0..<blocks {
      let base = buffer + block &* blockSize
      let blockLBA = lba &+ UInt64(block)
      for index in 0..<words {
        base.storeBytes(
          of: word(index, lba: blockLBA, generation: generation).littleEndian,
          toByteOffset: index &* 8, as: UInt64.self)
      }
    }
  }

  /// Checks a read. `generation` 0 means "not written in this run": the
  /// block may be all zeroes or any complete pattern for its LBA (an earlier
  /// run's). Returns the first mismatch.
  static func check(
    _ buffer: UnsafeRawPointer, lba: UInt64, blocks: Int, blockSize: Int, generation: UInt32
  ) -> VerifyMismatch? {
    let words = blockSize / 8
    for block in 0..<blocks {
      let base = buffer + block &* blockSize
      let blockLBA = lba &+ UInt64(block)
      var expected = generation
      if generation == 0 {
        let header = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        if header & 0xFFFF_FFFF == magic {
          expected = UInt32(truncatingIfNeeded: header >> 32)
        } else if isZero(base, words: words) {
          continue
        }
      }
      for index in 0..<words {
        let found = UInt64(
          littleEndian: base.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self))
        let want = word(index, lba: blockLBA, generation: expected)
        if found != want {
          return VerifyMismatch(
            lba: blockLBA, byteOffset: index &* 8, generation: generation, expected: want,
            found: found)
        }
      }
    }
    return nil
  }

  private static func isZero(_ base: UnsafeRawPointer, words: Int) -> Bool {
    for index in 0..<words
    where base.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self) != 0 {
      return false
    }
    return true
  }
}

/// The first block that did not read back as written.
public struct VerifyMismatch: CustomStringConvertible {
  var lba: UInt64
  var byteOffset: Int
  /// Generation last written to the block in this run (0: never).
  var generation: UInt32
  var expected: UInt64
  var found: UInt64

  public var description: String {
    let what = generation == 0 ? "never written in this run" : "written as generation \(generation)"
    return "mismatch at LBA \(lba) (\(what)), byte \(byteOffset) of the block: "
      + "expected 0x\(String(expected, radix: 16)), found 0x\(String(found, radix: 16))"
  }
}
