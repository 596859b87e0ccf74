import Testing

@testable import PCI

@Suite("BARs")
struct BARTests {
  @Test("32-bit prefetchable memory BAR sizes and stores a masked address")
  func memory32Sizing() throws {
    let function = try Fixture.function()
    #expect(function.read32(0x18) == 0x0000_0008)  // BAR2: prefetchable, 32-bit
    function.write32(0x18, 0xFFFF_FFFF)
    #expect(function.read32(0x18) == 0xFFFF_E008)  // 8 KiB
    function.write32(0x18, 0xFEBF_1234)
    #expect(function.read32(0x18) == 0xFEBF_0008)
    #expect(function.barAddress(2) == 0xFEBF_0000)
    #expect(function.barRegionSize(2) == 0x2000)
  }

  @Test("64-bit BAR: both dwords size and the address spans them")
  func memory64Sizing() throws {
    let function = try Fixture.function()
    #expect(function.read32(0x10) == 0x0000_0004)
    function.write32(0x10, 0xFFFF_FFFF)
    function.write32(0x14, 0xFFFF_FFFF)
    #expect(function.read32(0x10) == 0xFFFF_C004)  // 16 KiB, 64-bit type
    #expect(function.read32(0x14) == 0xFFFF_FFFF)  // upper dword all address
    function.write32(0x10, 0xFE00_4000)
    function.write32(0x14, 0x0000_0080)
    #expect(function.barAddress(0) == 0x80_FE00_4000)
    // The upper half has no description of its own.
    #expect(function.barAddress(1) == nil)
    #expect(function.barRegionSize(1) == nil)
  }

  @Test("64-bit BAR larger than 4 GiB: low dword has no address bits")
  func largeMemory64Sizing() throws {
    let function = try PCIFunction(
      bars: [BARDescription(index: 2, size: 1 << 34, kind: .memory64, prefetchable: true)],
      msix: nil)
    function.write32(0x18, 0xFFFF_FFFF)
    function.write32(0x1C, 0xFFFF_FFFF)
    #expect(function.read32(0x18) == 0x0000_000C)
    #expect(function.read32(0x1C) == 0xFFFF_FFFC)
  }

  @Test("I/O BAR sizes with bit 0 set and stores its address")
  func ioSizing() throws {
    let function = try Fixture.function()
    #expect(function.read32(0x20) == 0x0000_0001)
    function.write32(0x20, 0xFFFF_FFFF)
    #expect(function.read32(0x20) == 0xFFFF_FFE1)  // 32 bytes
    function.write32(0x20, 0x0000_C05F)
    #expect(function.read32(0x20) == 0x0000_C041)
    #expect(function.barAddress(4) == 0xC040)
  }

  @Test("unused BARs and the expansion ROM read 0 and ignore writes")
  func unusedBARs() throws {
    let function = try Fixture.function()
    for offset in [0x1C, 0x24, 0x30] {
      function.write32(offset, 0xFFFF_FFFF)
      #expect(function.read32(offset) == 0)
    }
    #expect(function.barAddress(3) == nil)
    #expect(function.barAddress(5) == nil)
    #expect(function.barAddress(-1) == nil)
    #expect(function.barAddress(Int.max) == nil)
  }

  @Test("byte writes into a BAR cannot touch its type bits")
  func byteWriteKeepsTypeBits() throws {
    let function = try Fixture.function()
    function.write8(0x10, 0xFF)
    #expect(function.read32(0x10) == 0x0000_0004)
    function.write8(0x11, 0xFF)
    #expect(function.read32(0x10) == 0x0000_C004)
  }

  @Test("BAR accesses are routed to MSI-X table, PBA or device, edges refused")
  func routing() throws {
    let function = try Fixture.function()
    #expect(function.routeBARAccess(bar: 0, offset: 0x1000, count: 4) == .device)
    #expect(function.routeBARAccess(bar: 0, offset: 0x2010, count: 8) == .msixTable(offset: 0x10))
    #expect(function.routeBARAccess(bar: 0, offset: 0x3008, count: 4) == .msixPBA(offset: 8))
    // Straddles the table's start, or the BAR's end.
    #expect(function.routeBARAccess(bar: 0, offset: 0x1FFC, count: 8) == .invalid)
    #expect(function.routeBARAccess(bar: 0, offset: 0x3FFC, count: 8) == .invalid)
    #expect(function.routeBARAccess(bar: 0, offset: .max, count: 4) == .invalid)
    #expect(function.routeBARAccess(bar: 0, offset: 0, count: 0) == .invalid)
    #expect(function.routeBARAccess(bar: 0, offset: 0, count: -1) == .invalid)
    #expect(function.routeBARAccess(bar: 1, offset: 0, count: 4) == .invalid)
    #expect(function.routeBARAccess(bar: 2, offset: 0x2000 - 4, count: 4) == .device)
    // Past the table end (70 vectors = 0x460 bytes) is the device's again.
    #expect(function.routeBARAccess(bar: 0, offset: 0x2460, count: 4) == .device)
  }
}
