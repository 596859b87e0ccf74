import Testing

@testable import PCI

/// Counts resets and checks the function is still in its old state when the
/// sink is told: the device behind the BARs resets first.
final class RecordingResetSink: FunctionResetSink {
  weak var function: PCIFunction?
  var resets = 0
  var busMasterAtReset: [Bool] = []

  func functionWillReset() {
    resets += 1
    busMasterAtReset.append(function?.busMasterEnabled ?? false)
  }
}

@Suite("Function-level reset")
struct FunctionLevelResetTests {
  static let deviceCapabilities = Fixture.pcieCapability + 0x04
  static let deviceControl = Fixture.pcieCapability + 0x08
  static let linkControl = Fixture.pcieCapability + 0x10
  static let pmcsr = Fixture.pmCapability + 0x04

  static func wired(keepsStateInD3hot: Bool = true) throws -> (
    PCIFunction, RecordingSink, RecordingResetSink
  ) {
    let function = try PCIFunction(
      identity: .nvmeDefault, bars: Fixture.bars, msix: Fixture.msix,
      keepsStateInD3hot: keepsStateInD3hot)
    let sink = RecordingSink()
    let resetSink = RecordingResetSink()
    resetSink.function = function
    function.interruptSink = sink
    function.resetSink = resetSink
    return (function, sink, resetSink)
  }

  /// What a driver programs before the reset: BARs, command, interrupt
  /// line, MSI-X enabled with a vector programmed, unmasked and pending.
  static func program(_ function: PCIFunction) throws {
    function.write32(0x10, 0xFE00_0000)
    function.write32(0x14, 0x1)
    function.write16(0x04, 0x0406)
    function.write8(0x3C, 11)
    function.latchStatusErrors(.receivedMasterAbort)
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: true)
    msix.writeEntry(2, field: 2, 0x1234)
    msix.unmask(2)
    function.signal(vector: 2)
  }

  @Test("DevCap advertises FLR")
  func capabilityBit() throws {
    let function = try Fixture.function()
    #expect(function.read32(Self.deviceCapabilities).map { $0 >> 28 & 1 } == 1)
  }

  @Test("Initiate FLR resets config, BARs, MSI-X and keeps the link settings")
  func flrThroughDeviceControl() throws {
    let (function, sink, resetSink) = try Self.wired()
    let powerOn = function.configSpace
    try Self.program(function)
    let msix = try #require(function.msix)
    #expect(msix.isPending(vector: 2))
    // MPS 256, MRRS 512, Link Control: common clock.
    function.write16(Self.deviceControl, 0x2030)
    function.write16(Self.linkControl, 0x0040)

    // As Linux's pcie_flr: read DevCtl, set Initiate FLR, write it back.
    let control = try #require(function.read16(Self.deviceControl))
    #expect(function.write16(Self.deviceControl, control | 0x8000))

    #expect(resetSink.resets == 1)
    #expect(resetSink.busMasterAtReset == [true], "the device resets before config does")
    #expect(function.read16(Self.deviceControl) == 0x2830, "defaults, MPS kept, FLR bit reads 0")
    #expect(function.read16(Self.linkControl) == 0x0040, "link settings kept")
    #expect(function.barAddress(0) == 0, "BARs back to 0")
    #expect(function.read16(0x04) == 0, "command register cleared")
    #expect(function.read8(0x3C) == 0)
    #expect(!function.status.contains(.receivedMasterAbort))
    #expect(!msix.isEnabled && !msix.isFunctionMasked)
    #expect(msix.isMasked(vector: 2) && !msix.isPending(vector: 2))
    #expect(msix.entry(vector: 2) == MSIXEntry(address: 0, data: 0, masked: true))
    #expect(sink.msixFired.isEmpty, "the reset fires nothing")
    var expected = powerOn
    expected.set16(0x2830, at: Self.deviceControl)
    expected.set16(0x0040, at: Self.linkControl)
    #expect(function.configSpace == expected, "everything else is power-on")
  }

  @Test("FLR drops an asserted INTx")
  func flrDeassertsINTx() throws {
    let (function, _, _) = try Self.wired()
    function.signal(vector: 0)
    #expect(function.intxAsserted)
    function.write16(Self.deviceControl, 0x8000)
    #expect(!function.intxAsserted)
  }

  @Test("a DevCtl write without the FLR bit resets nothing")
  func plainDeviceControlWrite() throws {
    let (function, _, resetSink) = try Self.wired()
    function.write32(0x10, 0xFE00_0000)
    function.write16(Self.deviceControl, 0x7FFF)
    function.write8(Self.deviceControl + 1, 0x7F)
    #expect(resetSink.resets == 0)
    #expect(function.barAddress(0) == 0xFE00_0000)
  }

  @Test("the FLR bit in a write that spans DevCap and DevCtl still resets")
  func flrInAWideWrite() throws {
    let (function, _, resetSink) = try Self.wired()
    function.write32(0x10, 0xFE00_0000)
    #expect(
      function.configWrite(
        offset: Self.deviceCapabilities, bytes: [0, 0, 0, 0, 0x10, 0x80, 0, 0]))
    #expect(resetSink.resets == 1)
    #expect(function.barAddress(0) == 0)
  }

  @Test("functionLevelReset() (DEVICE_RESET) does the same")
  func flrFromTheTransport() throws {
    let (function, _, resetSink) = try Self.wired()
    try Self.program(function)
    function.write16(Self.deviceControl, 0x2030)
    function.functionLevelReset()
    #expect(resetSink.resets == 1)
    #expect(function.barAddress(0) == 0)
    #expect(function.read16(Self.deviceControl) == 0x2830)
    #expect(function.msix?.isPending(vector: 2) == false)
  }

  @Test("No_Soft_Reset set: D3hot -> D0 keeps state")
  func d3hotKeepsState() throws {
    let (function, _, resetSink) = try Self.wired()
    function.write32(0x10, 0xFE00_0000)
    function.write16(Self.pmcsr, 0x0003)
    function.write16(Self.pmcsr, 0x0000)
    #expect(function.read16(Self.pmcsr) == 0x0008)
    #expect(resetSink.resets == 0)
    #expect(function.barAddress(0) == 0xFE00_0000)
  }

  @Test("No_Soft_Reset clear: D3hot -> D0 resets the function, D0 -> D0 does not")
  func d3hotToD0Resets() throws {
    let (function, _, resetSink) = try Self.wired(keepsStateInD3hot: false)
    #expect(function.read16(Self.pmcsr) == 0x0000)
    try Self.program(function)
    function.write16(Self.pmcsr, 0x0000)
    #expect(resetSink.resets == 0, "D0 -> D0 is no transition")
    function.write16(Self.pmcsr, 0x0003)
    #expect(resetSink.resets == 0, "entering D3hot keeps state")
    #expect(function.barAddress(0) == 0x1_FE00_0000)
    function.write16(Self.pmcsr, 0x0000)
    #expect(resetSink.resets == 1)
    #expect(function.powerState == .d0)
    #expect(function.barAddress(0) == 0 && function.read16(0x04) == 0)
    #expect(function.msix?.isEnabled == false)
    #expect(function.msix?.isPending(vector: 2) == false)
  }
}
