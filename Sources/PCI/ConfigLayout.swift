/// Where the capabilities sit in config space, and the power-on image built
/// from a function's description.
///
/// The chain is PM (0x40) -> MSI-X (0x50, if present) -> PCIe (0x60). Each
/// capability starts dword aligned and the last one's next pointer is 0.
struct ConfigLayout: Sendable {
  let powerManagement = 0x40
  let msix: Int?
  let pciExpress = 0x60
  /// PMCSR.No_Soft_Reset: D3hot -> D0 keeps state (else it resets).
  let keepsStateInD3hot: Bool

  init(hasMSIX: Bool, keepsStateInD3hot: Bool) {
    msix = hasMSIX ? 0x50 : nil
    self.keepsStateInD3hot = keepsStateInD3hot
  }

  func powerOnConfig(
    identity: PCIIdentity, bars: [BARDescription], msix msixDescription: MSIXDescription?
  ) -> ConfigSpace {
    var config = ConfigSpace()
    Type0Header.install(
      into: &config, identity: identity,
      capabilitiesPointer: UInt8(truncatingIfNeeded: powerManagement))
    for bar in bars { bar.install(into: &config) }

    let afterPM = msix ?? pciExpress
    PowerManagementCapability.install(
      into: &config, at: powerManagement, next: UInt8(truncatingIfNeeded: afterPM),
      keepsStateInD3hot: keepsStateInD3hot)
    if let msix, let msixDescription {
      MSIXCapability.install(
        into: &config, at: msix, next: UInt8(truncatingIfNeeded: pciExpress),
        description: msixDescription)
    }
    PCIExpressCapability.install(into: &config, at: pciExpress, next: 0)
    return config
  }
}
