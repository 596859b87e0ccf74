import Testing

@testable import BenchKit

@Suite struct WorkloadTests {
  @Test func sequentialVisitsEveryChunkInOrderAndWraps() {
    var workload = Workload(mode: .read, readPercent: 0, chunks: 5)
    let chunks = (0..<12).map { _ in workload.nextChunk() }
    #expect(chunks == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
  }

  @Test func sequentialWritesWrapToo() {
    var workload = Workload(mode: .write, readPercent: 100, chunks: 3)
    #expect((0..<7).map { _ in workload.nextChunk() } == [0, 1, 2, 0, 1, 2, 0])
    let isRead = workload.nextIsRead()
    #expect(!isRead, "write ignores the read percentage")
  }

  @Test func randomChunksStayInRangeAndReachBothEnds() {
    let chunks: UInt64 = 1000
    for mode in [RWMode.randread, .randwrite, .randrw] {
      var workload = Workload(mode: mode, readPercent: 50, chunks: chunks)
      var seen = Set<UInt64>()
      for _ in 0..<50_000 {
        let chunk = workload.nextChunk()
        #expect(chunk < chunks)
        seen.insert(chunk)
      }
      #expect(seen.contains(0) && seen.contains(chunks - 1), "\(mode)")
      #expect(seen.count > 990, "\(mode): offsets scatter over the whole range")
    }
  }

  /// A chunk is a --bs sized, --bs aligned piece: the byte offset the
  /// runner derives from it is aligned and the command ends inside --size.
  @Test func randomOffsetsAreBlockAlignedAndInsideTheSize() {
    let blockSize: UInt64 = 4096
    let size: UInt64 = 1 << 20
    var workload = Workload(mode: .randread, readPercent: 100, chunks: size / blockSize)
    for _ in 0..<10_000 {
      let offset = workload.nextChunk() * blockSize
      #expect(offset % blockSize == 0)
      #expect(offset + blockSize <= size)
    }
  }

  @Test func readAndWriteModesNeverMix() {
    var reads = Workload(mode: .randread, readPercent: 0, chunks: 8)
    var writes = Workload(mode: .randwrite, readPercent: 100, chunks: 8)
    for _ in 0..<1000 {
      let read = reads.nextIsRead()
      let written = !writes.nextIsRead()
      #expect(read && written)
    }
  }

  @Test(arguments: [0, 30, 70, 100])
  func randrwMixFollowsTheReadPercentage(percent: Int) {
    var workload = Workload(mode: .randrw, readPercent: percent, chunks: 64)
    let total = 100_000
    var reads = 0
    for _ in 0..<total where workload.nextIsRead() { reads += 1 }
    let expected = total * percent / 100
    #expect(abs(reads - expected) <= total / 100, "\(reads) reads of \(total) at \(percent)%")
  }

  @Test func outOfRangeInputsAreClamped() {
    #expect(Workload(mode: .randrw, readPercent: 150, chunks: 1).readPercent == 100)
    #expect(Workload(mode: .randrw, readPercent: -5, chunks: 1).readPercent == 0)
    var empty = Workload(mode: .randread, readPercent: 100, chunks: 0)
    #expect(empty.chunks == 1)
    #expect(empty.nextChunk() == 0)
  }

  @Test func sameSeedSameSequence() {
    var first = Workload(mode: .randrw, readPercent: 50, chunks: 1 << 20, seed: 42)
    var second = Workload(mode: .randrw, readPercent: 50, chunks: 1 << 20, seed: 42)
    for _ in 0..<100 {
      #expect(first.nextChunk() == second.nextChunk())
      #expect(first.nextIsRead() == second.nextIsRead())
    }
  }

  @Test func xorShiftBelowStaysUnderTheBoundAndSurvivesASeedOfZero() {
    var random = XorShift(seed: 0)
    #expect(random.next() != 0)
    for bound in [1, 2, 3, 1000, UInt64.max] as [UInt64] {
      for _ in 0..<1000 { #expect(random.below(bound) < bound) }
    }
  }
}
