import Testing

@testable import PCI

@Suite("Type-0 header")
struct HeaderTests {
  @Test("identity, class code and fixed header fields read back")
  func identityReadback() throws {
    let function = try Fixture.function()
    #expect(function.read16(0x00) == 0x4E56)
    #expect(function.read16(0x02) == 0x5646)
    #expect(function.read32(0x00) == 0x5646_4E56)
    #expect(function.read8(0x08) == 0)  // revision
    #expect(function.read8(0x09) == 0x02)  // prog IF: NVMe
    #expect(function.read8(0x0A) == 0x08)  // sub-class: NVM
    #expect(function.read8(0x0B) == 0x01)  // base: mass storage
    #expect(function.read32(0x08) == 0x0108_0200)
    #expect(function.read8(0x0E) == 0x00)  // header type 0, single function
    #expect(function.read16(0x2C) == 0x4E56)
    #expect(function.read16(0x2E) == 0x5646)
    #expect(function.read8(0x3D) == 1)  // INTA
    #expect(function.read16(0x06).map { $0 & 0x0010 } == 0x0010)  // capabilities list
  }

  @Test("custom identity is reflected, class masked to 24 bits")
  func customIdentity() throws {
    let identity = PCIIdentity(
      vendorID: 0x1234, deviceID: 0xABCD, subsystemVendorID: 0x1111, subsystemID: 0x2222,
      revisionID: 7, classCode: 0xFF01_0802)
    let function = try PCIFunction(identity: identity, bars: [], msix: nil)
    #expect(function.read32(0x00) == 0xABCD_1234)
    #expect(function.read32(0x08) == 0x0108_0207)
    #expect(function.read32(0x2C) == 0x2222_1111)
  }

  @Test("read-only bytes ignore writes")
  func readOnlyBytesIgnoreWrites() throws {
    let function = try Fixture.function()
    let before = function.configRead(offset: 0, count: 0x40)
    for offset in [0x00, 0x08, 0x0C, 0x2C, 0x30, 0x34] {
      #expect(function.write32(offset, 0xFFFF_FFFF))
    }
    #expect(function.read32(0x00) == 0x5646_4E56)
    #expect(function.read32(0x08) == 0x0108_0200)
    #expect(function.read8(0x0D) == 0)  // latency timer: RO 0 on PCIe
    #expect(function.read8(0x0E) == 0)  // header type
    #expect(function.read8(0x0F) == 0)  // BIST
    #expect(function.read32(0x2C) == 0x5646_4E56)
    #expect(function.read32(0x30) == 0)  // no expansion ROM
    #expect(function.read8(0x34) == 0x40)
    #expect(function.configRead(offset: 0, count: 4) == before.map { Array($0.prefix(4)) })
  }

  @Test("command register: only IO, memory, bus master, SERR, INTx-disable are writable")
  func commandWritableBits() throws {
    let function = try Fixture.function()
    #expect(function.read16(0x04) == 0)
    function.write16(0x04, 0xFFFF)
    #expect(function.read16(0x04) == 0x0507)
    #expect(function.busMasterEnabled && function.memorySpaceEnabled && function.ioSpaceEnabled)
    #expect(function.intxDisabled)
    function.write16(0x04, 0x0002)
    #expect(function.memorySpaceEnabled)
    #expect(!function.busMasterEnabled)
  }

  @Test("status error bits are RW1C, interrupt status and cap-list bits are RO")
  func statusWriteOneToClear() throws {
    let function = try Fixture.function()
    function.latchStatusErrors([.receivedMasterAbort, .signaledTargetAbort, .interruptStatus])
    // Non-error bits cannot be latched through this API.
    #expect(function.read16(0x06) == 0x2810)
    // Writing 0 changes nothing; writing 1 clears just that bit.
    function.write16(0x06, 0x0000)
    #expect(function.read16(0x06) == 0x2810)
    function.write16(0x06, 0x2000)
    #expect(function.read16(0x06) == 0x0810)
    // All-ones clears the rest but leaves the RO capabilities-list bit.
    function.write16(0x06, 0xFFFF)
    #expect(function.read16(0x06) == 0x0010)
  }

  @Test("a dword write at 0x04 updates command and RW1C-clears status together")
  func commandStatusDwordWrite() throws {
    let function = try Fixture.function()
    function.latchStatusErrors(.detectedParityError)
    function.write32(0x04, 0x8000_0006)
    #expect(function.read16(0x04) == 0x0006)
    #expect(function.read16(0x06) == 0x0010)
  }

  @Test("cache line size and interrupt line are RW")
  func readWriteBytes() throws {
    let function = try Fixture.function()
    function.write8(0x0C, 0x10)
    function.write8(0x3C, 0x0B)
    #expect(function.read8(0x0C) == 0x10)
    #expect(function.read8(0x3C) == 0x0B)
    // Interrupt pin next door stays INTA under a 16-bit write.
    function.write16(0x3C, 0xFF22)
    #expect(function.read16(0x3C) == 0x0122)
  }

  @Test("unaligned multi-byte accesses apply the masks byte by byte")
  func unalignedAccesses() throws {
    let function = try Fixture.function()
    // 3 bytes at 0x0B: class base (RO), cache line (RW), latency (RO).
    #expect(function.configWrite(offset: 0x0B, bytes: [0xAA, 0x40, 0xBB]))
    #expect(function.configRead(offset: 0x0B, count: 3) == [0x01, 0x40, 0x00])
    // Odd-length read across the vendor/device boundary.
    #expect(function.configRead(offset: 1, count: 3) == [0x4E, 0x46, 0x56])
  }

  @Test("extended config space reads as zero and ignores writes")
  func extendedSpaceIsEmpty() throws {
    let function = try Fixture.function()
    #expect(function.read32(0x100) == 0)
    #expect(function.write32(0x100, 0xFFFF_FFFF))
    #expect(function.read32(0x100) == 0)
    #expect(function.configRead(offset: 0xFFC, count: 4) == [0, 0, 0, 0])
  }
}
