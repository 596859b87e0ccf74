import Testing

@testable import PCI

@Suite("MSI-X capability and table")
struct MSIXTests {
  @Test("table size field is N-1 and read-only; table/PBA offsets carry the BIR")
  func capabilityFields() throws {
    let function = try Fixture.function()
    #expect(function.read16(0x52) == 69)  // 70 vectors
    #expect(function.read32(0x54) == 0x2000)  // offset | BIR 0
    #expect(function.read32(0x58) == 0x3000)
    function.write16(0x52, 0x07FF)
    #expect(function.read16(0x52) == 69)
    function.write32(0x54, 0xFFFF_FFFF)
    #expect(function.read32(0x54) == 0x2000)

    let onBAR2 = try PCIFunction(
      bars: [BARDescription(index: 2, size: 0x10000, kind: .memory32)],
      msix: MSIXDescription(vectors: 2048, bar: 2, tableOffset: 0, pbaOffset: 0x8000))
    #expect(onBAR2.read16(0x52) == 0x07FF)
    #expect(onBAR2.read32(0x54) == 0x0000_0002)
    #expect(onBAR2.read32(0x58) == 0x0000_8002)
  }

  @Test("message control: only enable and function mask are writable")
  func messageControl() throws {
    let function = try Fixture.function()
    let msix = try #require(function.msix)
    #expect(!msix.isEnabled && !msix.isFunctionMasked)
    function.write16(0x52, 0xC000)
    #expect(msix.isEnabled && msix.isFunctionMasked)
    #expect(function.read16(0x52) == 0xC045)  // 69 = N - 1
    function.write8(0x53, 0x80)  // byte write of the high half
    #expect(msix.isEnabled && !msix.isFunctionMasked)
  }

  @Test("entries start masked and zero")
  func initialTable() throws {
    let msix = try #require(try Fixture.function().msix)
    #expect(msix.tableRead(offset: 0, count: 8) == Array(repeating: 0, count: 8))
    #expect(msix.tableRead(offset: 12, count: 4) == [1, 0, 0, 0])
    #expect((0..<70).allSatisfy { msix.isMasked(vector: $0) })
    #expect(msix.pbaRead(offset: 0, count: 8) == Array(repeating: 0, count: 8))
  }

  @Test("table entries read back what was written, reserved bits stay 0")
  func tableReadWrite() throws {
    let msix = try #require(try Fixture.function().msix)
    #expect(msix.writeEntry(5, field: 0, 0xFEE0_100F))  // low 2 bits are RO 0
    #expect(msix.writeEntry(5, field: 1, 0x0000_0001))
    #expect(msix.writeEntry(5, field: 2, 0x0000_4041))
    #expect(msix.writeEntry(5, field: 3, 0xFFFF_FFFE))  // unmask; reserved bits dropped
    #expect(msix.tableRead(offset: 5 * 16, count: 8) == encode(UInt64(0x1_FEE0_100C)))
    #expect(msix.tableRead(offset: 5 * 16 + 8, count: 4) == encode(UInt32(0x4041)))
    #expect(msix.tableRead(offset: 5 * 16 + 12, count: 4) == [0, 0, 0, 0])
    #expect(!msix.isMasked(vector: 5))
    #expect(msix.isMasked(vector: 4) && msix.isMasked(vector: 6))
    #expect(msix.entry(vector: 5) == MSIXEntry(address: 0x1_FEE0_100C, data: 0x4041, masked: false))
    msix.mask(5)
    #expect(msix.isMasked(vector: 5))
  }

  @Test("8-byte table writes split into two dwords")
  func qwordTableWrite() throws {
    let msix = try #require(try Fixture.function().msix)
    #expect(msix.tableWrite(offset: 16, bytes: encode(UInt64(0xAABB_CCDD_FEE0_0000))))
    // data = 0x55, control = 0 (unmask) in one qword
    #expect(msix.tableWrite(offset: 24, bytes: encode(UInt64(0x0000_0000_0000_0055))))
    #expect(
      msix.entry(vector: 1) == MSIXEntry(address: 0xAABB_CCDD_FEE0_0000, data: 0x55, masked: false))
  }

  @Test("odd sizes, misaligned and out-of-table accesses are refused")
  func refusedTableAccesses() throws {
    let msix = try #require(try Fixture.function().msix)
    for count in [0, 1, 2, 3, 5, 16, -4] {
      #expect(msix.tableRead(offset: 0, count: count) == nil)
      #expect(!msix.tableWrite(offset: 0, bytes: Array(repeating: 0, count: max(0, count))))
    }
    #expect(msix.tableRead(offset: 2, count: 4) == nil)
    #expect(msix.tableRead(offset: 4, count: 8) == nil)  // qword must be qword aligned
    #expect(!msix.tableWrite(offset: 12 + 16, bytes: encode(UInt64(0))))
    #expect(msix.tableRead(offset: 70 * 16, count: 4) == nil)
    #expect(msix.tableRead(offset: 70 * 16 - 4, count: 4) != nil)
    #expect(!msix.tableWrite(offset: 70 * 16, bytes: [0, 0, 0, 0]))
    #expect(msix.isMasked(vector: 0))
  }

  @Test("PBA is read-only to the guest and sized in qwords")
  func pbaReadOnly() throws {
    let (function, _) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: false)
    function.signal(vector: 65)
    #expect(msix.pbaWord(for: 65) == 1 << 1)
    #expect(msix.pbaWrite(offset: 8, bytes: encode(UInt64(0))))
    #expect(msix.pbaWord(for: 65) == 1 << 1)
    #expect(msix.pbaRead(offset: 12, count: 4) == [0, 0, 0, 0])
    #expect(msix.pbaRead(offset: 8, count: 4) == [2, 0, 0, 0])
    // 70 vectors -> 2 qwords; the third is outside.
    #expect(msix.pbaRead(offset: 16, count: 4) == nil)
    #expect(!msix.pbaWrite(offset: 16, bytes: [0, 0, 0, 0]))
  }
}
