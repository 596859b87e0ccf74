import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// Data pointers of I/O commands: PRP shapes and SGLs, each on the
/// zero-copy path and on the bounce path (guest RAM without translation).
@Suite struct ControllerDataPointerTests {
  typealias H = ControllerHarness

  /// Writes `data` via (prp1, prp2), checks the store, then reads it back
  /// into the same buffer (poisoned first) and checks the guest bytes.
  func roundTrip(
    _ harness: H, _ data: [UInt8], slba: UInt64, prp1: UInt64, prp2: UInt64,
    buffers: [(address: UInt64, count: Int)]
  ) {
    var offset = 0
    for buffer in buffers {
      harness.memory.poke(buffer.address, Array(data[offset..<(offset + buffer.count)]))
      offset += buffer.count
    }
    #expect(offset == data.count)
    let blocks = data.count / 512
    let write = H.rw(.write, slba: slba, blocks: blocks, prp1: prp1, prp2: prp2)
    #expect(harness.io(write) == .success)
    #expect(harness.stored(offset: Int(slba) * 512, count: data.count) == data)
    for buffer in buffers {
      harness.memory.poke(buffer.address, [UInt8](repeating: 0xEE, count: buffer.count))
    }
    let read = H.rw(.read, slba: slba, blocks: blocks, prp1: prp1, prp2: prp2)
    #expect(harness.io(read) == .success)
    offset = 0
    for buffer in buffers {
      #expect(
        harness.memory.peek(buffer.address, buffer.count)
          == Array(data[offset..<(offset + buffer.count)]))
      offset += buffer.count
    }
  }

  @Test(arguments: [true, false])
  func prp1Only(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 4096, seed: 1)
    roundTrip(harness, data, slba: 0, prp1: H.page(16), prp2: 0, buffers: [(H.page(16), 4096)])
    // An offset inside the page, still within it: PRP2 is not used.
    let small = pattern(count: 1024, seed: 2)
    let prp1 = H.page(20) + 0xA00
    roundTrip(harness, small, slba: 9, prp1: prp1, prp2: 0xDEAD_0000, buffers: [(prp1, 1024)])
  }

  @Test(arguments: [true, false])
  func prp1AndPrp2(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 8192, seed: 3)
    roundTrip(
      harness, data, slba: 16, prp1: H.page(16), prp2: H.page(30),
      buffers: [(H.page(16), 4096), (H.page(30), 4096)])
  }

  @Test(arguments: [true, false])
  func prp1MidPageSpillsIntoPrp2(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 4096, seed: 4)
    let prp1 = H.page(16) + 0x200
    roundTrip(
      harness, data, slba: 1, prp1: prp1, prp2: H.page(31),
      buffers: [(prp1, 0xE00), (H.page(31), 0x200)])
  }

  @Test(arguments: [true, false])
  func prpListOfScatteredPages(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 5 * 4096, seed: 5)
    let pages = [16, 40, 25, 33, 17].map { H.page($0) }
    let list = H.page(H.listArea)
    harness.memory.pokeEntries(list, Array(pages[1...]))
    roundTrip(
      harness, data, slba: 40, prp1: pages[0], prp2: list,
      buffers: pages.map { ($0, 4096) })
  }

  @Test(arguments: [true, false])
  func prpListAfterAnOffsetFirstPage(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    // 0x200 in the first page, two whole pages, 0xE00 in the last.
    let data = pattern(count: 3 * 4096, seed: 6)
    let prp1 = H.page(16) + 0xE00
    let list = H.page(H.listArea)
    harness.memory.pokeEntries(list, [H.page(50), H.page(51), H.page(60)])
    roundTrip(
      harness, data, slba: 100, prp1: prp1, prp2: list,
      buffers: [(prp1, 0x200), (H.page(50), 8192), (H.page(60), 0xE00)])
  }

  @Test(arguments: [true, false])
  func prpListChainedAcrossListPages(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    // PRP2 points at the last two slots of a list page: one data entry,
    // then the pointer to the next list page with the remaining two.
    let data = pattern(count: 4 * 4096, seed: 7)
    let first = H.page(H.listArea) + 4096 - 16
    let second = H.page(H.listArea + 3)
    harness.memory.pokeEntries(first, [H.page(41), second])
    harness.memory.pokeEntries(second, [H.page(42), H.page(45)])
    roundTrip(
      harness, data, slba: 200, prp1: H.page(16), prp2: first,
      buffers: [(H.page(16), 4096), (H.page(41), 8192), (H.page(45), 4096)])
  }

  @Test func fullPRPListPagesChain() throws {
    // 514 pages need a whole list page (511 entries + chain) and a second.
    let settings = ControllerSettings(ioQueues: 4, maxQueueEntries: 256, mdtsExponent: 10)
    let harness = try H.ready(namespaceSizes: [4 << 20], settings: settings)
    let pages = 514
    let data = pattern(count: pages * 4096, seed: 8)
    let firstList = H.page(H.listArea)
    let secondList = H.page(H.listArea + 1)
    let dataPages = (0..<pages).map { H.page(16 + $0) }
    harness.memory.pokeEntries(firstList, Array(dataPages[1..<512]) + [secondList])
    harness.memory.pokeEntries(secondList, Array(dataPages[512...]))
    roundTrip(
      harness, data, slba: 0, prp1: dataPages[0], prp2: firstList,
      buffers: [(dataPages[0], data.count)])
  }

  @Test func moreSegmentsThanIovecsFallBackToCopies() throws {
    // 300 separate pages: past the 256 iovecs a command may use zero-copy.
    let settings = ControllerSettings(ioQueues: 4, maxQueueEntries: 256, mdtsExponent: 10)
    let harness = try H.ready(namespaceSizes: [4 << 20], settings: settings)
    let pages = (0..<300).map { H.page(16 + 2 * $0) }
    #expect(pages.count > InFlightTable.maxIovecs)
    let data = pattern(count: pages.count * 4096, seed: 15)
    harness.memory.pokeEntries(H.page(H.listArea), Array(pages[1...]))
    roundTrip(
      harness, data, slba: 8, prp1: pages[0], prp2: H.page(H.listArea),
      buffers: pages.map { ($0, 4096) })
    // The pages in between were never touched.
    #expect(harness.memory.peek(H.page(17), 4096).allSatisfy { $0 == 0 })
  }

  @Test func prpOffsetsMustBeLegal() throws {
    let harness = try H.ready()
    // PRP1 not dword aligned.
    #expect(harness.io(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16) + 2)) == .prpOffsetInvalid)
    // PRP2 as a second page must have no offset.
    let two = H.rw(.write, slba: 0, blocks: 16, prp1: H.page(16), prp2: H.page(17) + 0x200)
    #expect(harness.io(two) == .prpOffsetInvalid)
    // A list entry with an offset.
    harness.memory.pokeEntries(H.page(H.listArea), [H.page(17), H.page(18) + 8])
    let list = H.rw(.write, slba: 0, blocks: 24, prp1: H.page(16), prp2: H.page(H.listArea))
    #expect(harness.io(list) == .prpOffsetInvalid)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
  }

  @Test func bouncePathReallyCopies() throws {
    let harness = try H.ready(translation: false)
    let before = harness.memory.reads
    #expect(harness.write(pattern(count: 8192, seed: 13), slba: 0) == .success)
    // One copy for the SQE, one for the two (adjacent, merged) data pages.
    #expect(harness.memory.reads - before == 2)
    #expect(harness.read(slba: 0, blocks: 16).1 == pattern(count: 8192, seed: 13))
  }

  @Test func memoryPageSizeFollowsCCMPS() throws {
    // MPS 1: 8 KiB pages, so 16 KiB is PRP1 + PRP2 without a list.
    let harness = try H()
    harness.enable(cc: H.enableCC | 1 << 7)
    harness.controller.poll()
    #expect(harness.createIOQueuePair(1))
    let data = pattern(count: 16384, seed: 14)
    roundTrip(
      harness, data, slba: 0, prp1: H.page(16), prp2: H.page(32),
      buffers: [(H.page(16), 8192), (H.page(32), 8192)])
    // A 4 KiB-aligned PRP2 that is not 8 KiB aligned is an offset now.
    let odd = H.rw(.read, slba: 0, blocks: 32, prp1: H.page(16), prp2: H.page(33))
    #expect(harness.io(odd) == .prpOffsetInvalid)
  }
}
