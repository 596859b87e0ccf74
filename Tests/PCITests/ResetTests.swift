import Testing

@testable import PCI

@Suite("Reset")
struct ResetTests {
  @Test("reset restores power-on state but keeps identity and sink")
  func resetRestoresState() throws {
    let (function, sink) = try Fixture.wired()
    let powerOn = function.configSpace
    let msix = try #require(function.msix)

    function.write16(0x04, 0x0406)
    function.write32(0x10, 0xFE00_0000)
    function.write32(0x14, 0x1)
    function.write8(0x3C, 11)
    function.write16(0x44, 0x0003)
    function.latchStatusErrors(.receivedMasterAbort)
    function.setMSIX(enabled: true, functionMasked: true)
    msix.writeEntry(2, field: 2, 0x1234)
    msix.unmask(2)
    function.signal(vector: 2)
    #expect(msix.isPending(vector: 2))

    function.reset()

    #expect(function.configSpace == powerOn)
    #expect(function.barAddress(0) == 0)
    #expect(!function.busMasterEnabled && !function.memorySpaceEnabled)
    #expect(function.powerState == .d0)
    #expect(!msix.isEnabled && !msix.isFunctionMasked)
    #expect(msix.isMasked(vector: 2))
    #expect(!msix.isPending(vector: 2))
    #expect(msix.entry(vector: 2) == MSIXEntry(address: 0, data: 0, masked: true))
    #expect(function.identity == .nvmeDefault)
    #expect(function.read32(0x00) == 0x5646_4E56)
    // Nothing fired by the reset itself; the sink is still wired.
    #expect(sink.msixFired.isEmpty)
    function.signal(vector: 0)
    #expect(sink.intxFired == 1)
  }
}
