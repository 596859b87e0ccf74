import Testing

@testable import PCI

@Suite("Function descriptions")
struct ConfigurationTests {
  @Test("the NVMe default identity")
  func nvmeDefault() {
    let identity = PCIIdentity.nvmeDefault
    #expect(identity.vendorID == 0x4E56 && identity.deviceID == 0x5646)
    #expect(identity.subsystemVendorID == 0x4E56 && identity.subsystemID == 0x5646)
    #expect(identity.revisionID == 0)
    #expect(identity.classCode == 0x01_08_02)
  }

  @Test(
    "invalid BAR descriptions are refused",
    arguments: [
      (
        BARDescription(index: 6, size: 4096, kind: .memory32),
        PCIConfigurationError.barIndexOutOfRange(index: 6)
      ),
      (BARDescription(index: -1, size: 4096, kind: .memory32), .barIndexOutOfRange(index: -1)),
      (BARDescription(index: 5, size: 4096, kind: .memory64), .barIndexOutOfRange(index: 5)),
      (
        BARDescription(index: 0, size: 3000, kind: .memory32), .barSizeInvalid(index: 0, size: 3000)
      ),
      (BARDescription(index: 0, size: 8, kind: .memory32), .barSizeInvalid(index: 0, size: 8)),
      (BARDescription(index: 0, size: 0, kind: .memory64), .barSizeInvalid(index: 0, size: 0)),
      (
        BARDescription(index: 0, size: 1 << 32, kind: .memory32),
        .barSizeInvalid(index: 0, size: 1 << 32)
      ),
      (BARDescription(index: 0, size: 512, kind: .io), .barSizeInvalid(index: 0, size: 512)),
      (
        BARDescription(index: 0, size: 16, kind: .io, prefetchable: true),
        .ioBARPrefetchable(index: 0)
      ),
    ])
  func invalidBARs(bar: BARDescription, error: PCIConfigurationError) {
    #expect(throws: error) { try PCIFunction(bars: [bar], msix: nil) }
  }

  @Test("a 64-bit BAR's upper slot cannot be claimed twice")
  func overlappingBARs() {
    let bars = [
      BARDescription(index: 0, size: 4096, kind: .memory64),
      BARDescription(index: 1, size: 4096, kind: .memory32),
    ]
    #expect(throws: PCIConfigurationError.barSlotConflict(index: 1)) {
      try PCIFunction(bars: bars, msix: nil)
    }
  }

  @Test(
    "invalid MSI-X descriptions are refused",
    arguments: [
      (
        MSIXDescription(vectors: 0, bar: 0, tableOffset: 0x2000, pbaOffset: 0x3000),
        PCIConfigurationError.msixVectorCountInvalid(0)
      ),
      (
        MSIXDescription(vectors: 2049, bar: 0, tableOffset: 0, pbaOffset: 0x3000),
        .msixVectorCountInvalid(2049)
      ),
      (
        MSIXDescription(vectors: 4, bar: 1, tableOffset: 0, pbaOffset: 0x1000),
        .msixBARInvalid(bar: 1)
      ),
      (
        MSIXDescription(vectors: 4, bar: 4, tableOffset: 0, pbaOffset: 0x10),
        .msixBARInvalid(bar: 4)
      ),
      (
        MSIXDescription(vectors: 4, bar: 0, tableOffset: 0x2004, pbaOffset: 0x3000),
        .msixOffsetMisaligned
      ),
      (
        MSIXDescription(vectors: 4, bar: 0, tableOffset: 0x3FF0, pbaOffset: 0x3000),
        .msixStructureOutsideBAR
      ),
      (
        MSIXDescription(vectors: 4, bar: 0, tableOffset: 0x2000, pbaOffset: 0xFFFF_FFF8),
        .msixStructureOutsideBAR
      ),
      (
        MSIXDescription(vectors: 4, bar: 0, tableOffset: 0x2000, pbaOffset: 0x2030),
        .msixTableOverlapsPBA
      ),
    ])
  func invalidMSIX(msix: MSIXDescription, error: PCIConfigurationError) {
    #expect(throws: error) { try PCIFunction(bars: Fixture.bars, msix: msix) }
  }
}
