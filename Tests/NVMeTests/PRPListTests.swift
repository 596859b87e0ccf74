import TestSupport
import Testing

@testable import NVMe

@Suite("PRP lists")
struct PRPListTests {
  static let page = 4096
  static let mdts = 16 << 20

  /// Data at 0x10000 (64 KiB), PRP lists at 0x100000 (16 KiB), and a
  /// half-page window at 0x200000.
  func memory() -> WindowedGuestMemory {
    WindowedGuestMemory([(0x10000, 0x10000), (0x100000, 0x4000), (0x200000, 0x800)])
  }

  func walk(
    _ memory: WindowedGuestMemory, prp1: UInt64, prp2: UInt64 = 0, length: Int,
    pageSize: Int = page, mdts: Int = mdts
  ) throws -> [DataSegment] {
    try PRPList.segments(
      prp1: prp1, prp2: prp2, length: length, pageSize: pageSize, maxTransferLength: mdts,
      memory: memory)
  }

  @Test("Page size from CC.MPS")
  func pageSizes() {
    #expect(PRPList.pageSize(mps: 0) == 4096)
    #expect(PRPList.pageSize(mps: 1) == 8192)
    #expect(PRPList.pageSize(mps: 16) == nil)
  }

  @Test("Zero length transfers nothing and ignores the pointers")
  func zeroLength() throws {
    #expect(try walk(memory(), prp1: 0x3, prp2: 0x5, length: 0) == [])
  }

  @Test("Single page, whole and partial")
  func singlePage() throws {
    let mem = memory()
    #expect(
      try walk(mem, prp1: 0x10000, length: 4096) == [DataSegment(address: 0x10000, length: 4096)])
    #expect(
      try walk(mem, prp1: 0x10200, length: 512) == [DataSegment(address: 0x10200, length: 512)])
    #expect(mem.reads == 0)
  }

  @Test("Two pages: PRP2 is the second page")
  func twoPages() throws {
    let mem = memory()
    #expect(
      try walk(mem, prp1: 0x10000, prp2: 0x30000, length: 8192) == [
        DataSegment(address: 0x10000, length: 4096), DataSegment(address: 0x30000, length: 4096),
      ])
    // Adjacent pages coalesce.
    #expect(
      try walk(mem, prp1: 0x10000, prp2: 0x11000, length: 8192) == [
        DataSegment(address: 0x10000, length: 8192)
      ])
    #expect(mem.reads == 0)
  }

  @Test("PRP1 with an offset crossing into PRP2's page")
  func offsetCrossing() throws {
    #expect(
      try walk(memory(), prp1: 0x10200, prp2: 0x30000, length: 4096) == [
        DataSegment(address: 0x10200, length: 0xE00), DataSegment(address: 0x30000, length: 0x200),
      ])
  }

  @Test("PRP list with an offset PRP1")
  func listWithOffsetPRP1() throws {
    let mem = memory()
    mem.pokeEntries(0x100000, [0x20000, 0x40000, 0x60000, 0xDEAD_BEEF])
    let segments = try walk(mem, prp1: 0x10100, prp2: 0x100000, length: 3 * 4096)
    #expect(
      segments == [
        DataSegment(address: 0x10100, length: 0xF00), DataSegment(address: 0x20000, length: 4096),
        DataSegment(address: 0x40000, length: 4096), DataSegment(address: 0x60000, length: 0x100),
      ])
    #expect(segments.totalLength == 3 * 4096)
    #expect(mem.reads == 1)
  }

  @Test("A list chains across two list pages through the last slot")
  func chainedList() throws {
    let mem = memory()
    // First list page full: 511 data entries (stride two pages) + chain.
    let first = (0..<511).map { UInt64(0x1000_0000 + $0 * 0x2000) }
    mem.pokeEntries(0x100000, first + [0x102000])
    mem.pokeEntries(0x102000, [0x2000_0000, 0x2000_2000, 0x2000_4000])
    let pages = 1 + 511 + 3
    let segments = try walk(mem, prp1: 0x10000, prp2: 0x100000, length: pages * 4096)
    #expect(segments.count == pages)
    #expect(segments[1] == DataSegment(address: 0x1000_0000, length: 4096))
    #expect(segments[511] == DataSegment(address: 0x1000_0000 + 510 * 0x2000, length: 4096))
    #expect(segments[512] == DataSegment(address: 0x2000_0000, length: 4096))
    #expect(segments.last == DataSegment(address: 0x2000_4000, length: 4096))
    #expect(mem.reads == 2)
  }

  @Test("A list pointer with an offset chains early")
  func listOffsetChainsEarly() throws {
    let mem = memory()
    // Two slots left in the page: one data entry and the chain pointer.
    mem.pokeEntries(0x100FF0, [0x20000, 0x103000])
    mem.pokeEntries(0x103000, [0x22000, 0x24000])
    let segments = try walk(mem, prp1: 0x10000, prp2: 0x100FF0, length: 4 * 4096)
    #expect(segments.map(\.address) == [0x10000, 0x20000, 0x22000, 0x24000])
  }

  @Test("8 KiB memory pages")
  func eightKiBPages() throws {
    let mem = memory()
    // PRP1 offset 4 KiB into an 8 KiB page: 4 KiB there, then one full page.
    #expect(
      try walk(mem, prp1: 0x11000, prp2: 0x40000, length: 12288, pageSize: 8192) == [
        DataSegment(address: 0x11000, length: 4096), DataSegment(address: 0x40000, length: 8192),
      ])
    // A 4 KiB-aligned PRP2 is not page aligned at 8 KiB.
    #expect(throws: NVMeStatus.prpOffsetInvalid) {
      try walk(mem, prp1: 0x11000, prp2: 0x41000, length: 12288, pageSize: 8192)
    }
    // List: 1024 slots per page, three data entries.
    mem.pokeEntries(0x100000, [0x40000, 0x80000, 0xC0000])
    let segments = try walk(mem, prp1: 0x10000, prp2: 0x100000, length: 4 * 8192, pageSize: 8192)
    #expect(segments.map(\.address) == [0x10000, 0x40000, 0x80000, 0xC0000])
    #expect(segments.allSatisfy { $0.length == 8192 })
  }

  @Test("PRP1 not dword aligned")
  func misalignedPRP1() {
    #expect(throws: NVMeStatus.prpOffsetInvalid) { try walk(memory(), prp1: 0x10002, length: 16) }
  }

  @Test("PRP2 with an offset where a page address is required")
  func prp2Offset() {
    #expect(throws: NVMeStatus.prpOffsetInvalid) {
      try walk(memory(), prp1: 0x10000, prp2: 0x30010, length: 8192)
    }
  }

  @Test("PRP list pointer not dword aligned")
  func misalignedListPointer() {
    #expect(throws: NVMeStatus.prpOffsetInvalid) {
      try walk(memory(), prp1: 0x10000, prp2: 0x100002, length: 3 * 4096)
    }
  }

  @Test("A list entry with an offset")
  func listEntryOffset() {
    let mem = memory()
    mem.pokeEntries(0x100000, [0x20000, 0x40008])
    #expect(throws: NVMeStatus.prpOffsetInvalid) {
      try walk(mem, prp1: 0x10000, prp2: 0x100000, length: 3 * 4096)
    }
  }

  @Test("A list outside mapped memory")
  func listUnmapped() {
    #expect(throws: NVMeStatus.dataTransferError) {
      try walk(memory(), prp1: 0x10000, prp2: 0x900000, length: 3 * 4096)
    }
    // Straddling the end of a window is just as unmapped.
    #expect(throws: NVMeStatus.dataTransferError) {
      try walk(memory(), prp1: 0x10000, prp2: 0x200000, length: 600 * 4096)
    }
  }

  @Test("A one-slot list page that chains to itself fails instead of looping")
  func selfChainNoProgress() {
    let mem = memory()
    mem.pokeEntries(0x100FF8, [0x100FF8])
    #expect(throws: NVMeStatus.prpOffsetInvalid) {
      try walk(mem, prp1: 0x10000, prp2: 0x100FF8, length: 64 * 4096)
    }
    #expect(mem.reads <= 65)
  }

  @Test("A full list page chaining to itself terminates with the right length")
  func selfChainFullPage() throws {
    let mem = memory()
    let entries = (0..<511).map { UInt64(0x1000_0000 + $0 * 0x2000) }
    mem.pokeEntries(0x100000, entries + [0x100000])
    let pages = 2000
    let segments = try walk(mem, prp1: 0x10000, prp2: 0x100000, length: pages * 4096)
    #expect(segments.totalLength == pages * 4096)
    #expect(mem.reads == 4)  // ceil(1999 / 511) list pages
  }

  @Test("Transfer above MDTS is Invalid Field")
  func aboveMDTS() {
    #expect(throws: NVMeStatus.invalidField) {
      try walk(memory(), prp1: 0x10000, prp2: 0x100000, length: (1 << 20) + 1, mdts: 1 << 20)
    }
    #expect(throws: NVMeStatus.invalidField) {
      try walk(memory(), prp1: 0x10000, length: -1)
    }
  }

  @Test("Huge lengths do not overflow the page arithmetic")
  func hugeLength() {
    #expect(throws: NVMeStatus.dataTransferError) {
      try walk(memory(), prp1: 0x10000, prp2: 0x900000, length: Int.max, mdts: Int.max)
    }
  }
}
