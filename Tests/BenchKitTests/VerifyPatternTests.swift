import Testing

@testable import BenchKit

@Suite struct VerifyPatternTests {
  static let blockSize = 512

  /// `blocks` blocks of pattern for `lba` and `generation`, in a buffer the
  /// test owns.
  final class Blocks {
    let base: UnsafeMutableRawPointer
    let bytes: UnsafeMutableRawBufferPointer
    let blocks: Int

    init(blocks: Int) {
      self.blocks = blocks
      let count = blocks * VerifyPatternTests.blockSize
      base = .allocate(byteCount: count, alignment: 8)
      bytes = UnsafeMutableRawBufferPointer(start: base, count: count)
      bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { base.deallocate() }

    func fill(lba: UInt64, generation: UInt32) {
      VerifyPattern.fill(
        base, lba: lba, blocks: blocks, blockSize: VerifyPatternTests.blockSize,
        generation: generation)
    }

    func check(lba: UInt64, generation: UInt32) -> VerifyMismatch? {
      VerifyPattern.check(
        base, lba: lba, blocks: blocks, blockSize: VerifyPatternTests.blockSize,
        generation: generation)
    }
  }

  @Test func whatIsWrittenChecksClean() {
    let data = Blocks(blocks: 8)
    data.fill(lba: 1000, generation: 7)
    #expect(data.check(lba: 1000, generation: 7) == nil)
  }

  @Test func eachBlockCarriesItsLBAAndGeneration() {
    let data = Blocks(blocks: 2)
    data.fill(lba: 40, generation: 3)
    func word(_ offset: Int) -> UInt64 {
      UInt64(littleEndian: data.bytes.load(fromByteOffset: offset, as: UInt64.self))
    }
    #expect(word(0) == 40)
    #expect(word(8) == 3 << 32 | VerifyPattern.magic)
    #expect(word(Self.blockSize) == 41)
  }

  @Test func oneCorruptedByteIsFoundWhereItIs() throws {
    let data = Blocks(blocks: 4)
    data.fill(lba: 100, generation: 9)
    // Byte 77 of the third block: word 9 of LBA 102.
    data.bytes[2 * Self.blockSize + 77] ^= 0x01
    let mismatch = try #require(data.check(lba: 100, generation: 9))
    #expect(mismatch.lba == 102)
    #expect(mismatch.byteOffset == 72)
    #expect(mismatch.generation == 9)
    #expect(mismatch.expected != mismatch.found)
    #expect(mismatch.expected ^ mismatch.found == 1 << 40)
  }

  @Test func aBlockFromTheWrongPlaceOrWriteIsCaught() {
    let data = Blocks(blocks: 1)
    data.fill(lba: 5, generation: 2)
    #expect(data.check(lba: 6, generation: 2)?.byteOffset == 0)
    #expect(data.check(lba: 5, generation: 3)?.byteOffset == 8)
  }

  @Test func neverWrittenAcceptsZeroesOrAnyCompletePattern() {
    let data = Blocks(blocks: 2)
    #expect(data.check(lba: 0, generation: 0) == nil, "zeroes")
    data.fill(lba: 0, generation: 12)
    #expect(data.check(lba: 0, generation: 0) == nil, "an earlier run's pattern")
    data.bytes[Self.blockSize + 100] ^= 0xFF
    let mismatch = data.check(lba: 0, generation: 0)
    #expect(mismatch?.lba == 1)
    #expect(mismatch?.generation == 0)
  }

  @Test func neverWrittenRejectsGarbage() {
    let data = Blocks(blocks: 1)
    data.bytes[200] = 0x5A
    // No pattern header, not zeroes: held to the never-written pattern,
    // whose header word is the first to differ.
    #expect(data.check(lba: 0, generation: 0)?.byteOffset == 8)
  }

  @Test func mismatchDescribesTheBlock() {
    let mismatch = VerifyMismatch(
      lba: 12, byteOffset: 16, generation: 0, expected: 0xAB, found: 0xCD)
    #expect(
      mismatch.description
        == "mismatch at LBA 12 (never written in this run), byte 16 of the block: "
        + "expected 0xab, found 0xcd")
    let written = VerifyMismatch(lba: 1, byteOffset: 0, generation: 4, expected: 1, found: 2)
    #expect(written.description.contains("(written as generation 4)"))
  }
}
