/// One emulated PCI Express function: config space, BARs, capabilities and
/// interrupt state. Knows nothing of what sits behind the BARs.
///
/// Owned by a single reactor thread, so it is deliberately not Sendable and
/// takes no locks. Every guest-facing entry point validates its offsets and
/// lengths and refuses (nil / false) instead of trapping.
public final class PCIFunction {
  public let identity: PCIIdentity
  /// The implemented BARs, ordered by index.
  public let bars: [BARDescription]
  public let msixDescription: MSIXDescription?

  /// Receives interrupts. Weak: the sink's owner outlives the wiring.
  public weak var interruptSink: (any InterruptSink)?
  /// Resets what sits behind the BARs when the guest resets the function.
  public weak var resetSink: (any FunctionResetSink)?

  let layout: ConfigLayout
  var config: ConfigSpace
  /// Table and PBA; nil when the function has no MSI-X.
  var msixTable: MSIXTable?

  /// Fails when the description is inconsistent: bad BAR sizes or indices,
  /// overlapping BAR slots, or an MSI-X table/PBA that does not fit its BAR.
  /// `keepsStateInD3hot` is PMCSR.No_Soft_Reset; without it D3hot -> D0
  /// resets the function.
  public init(
    identity: PCIIdentity = .nvmeDefault, bars: [BARDescription], msix: MSIXDescription?,
    keepsStateInD3hot: Bool = true
  ) throws(PCIConfigurationError) {
    var used = Set<Int>()
    for bar in bars {
      try bar.validate()
      for slot in bar.slots {
        guard used.insert(slot).inserted else { throw .barSlotConflict(index: slot) }
      }
    }
    try msix?.validate(bars: bars)

    self.identity = identity
    self.bars = bars.sorted { $0.index < $1.index }
    self.msixDescription = msix
    layout = ConfigLayout(hasMSIX: msix != nil, keepsStateInD3hot: keepsStateInD3hot)
    config = layout.powerOnConfig(identity: identity, bars: self.bars, msix: msix)
    msixTable = msix.map { MSIXTable(vectors: $0.vectors) }
  }

  // MARK: Config space

  /// Guest config read; nil when the access is not inside the 4 KiB space.
  public func configRead(offset: Int, count: Int) -> [UInt8]? {
    config.read(offset: offset, count: count)
  }

  /// Guest config write through the RO/RW/RW1C masks, then the side effects
  /// of the registers it may have touched: a function-level reset when it
  /// set Initiate FLR or (without No_Soft_Reset) took the function from
  /// D3hot to D0. False when out of range.
  public func configWrite(offset: Int, bytes: [UInt8]) -> Bool {
    let before = InterruptControl(of: self)
    let previousPowerState = powerState
    let linkSettings = PCIExpressCapability.LinkSettings(
      of: config, capability: layout.pciExpress)
    guard config.write(offset: offset, bytes: bytes) else { return false }
    PowerManagementCapability.refuseUnsupportedState(
      in: &config, capability: layout.powerManagement, previous: previousPowerState)
    let softReset =
      !layout.keepsStateInD3hot && previousPowerState == .d3hot && powerState == .d0
    if softReset
      || PCIExpressCapability.functionLevelResetRequested(
        in: config, capability: layout.pciExpress)
    {
      functionLevelReset(keeping: linkSettings)
      return true
    }
    interruptControlChanged(from: before)
    return true
  }

  /// A copy of the whole config space, for inspection and logs.
  public var configSpace: ConfigSpace { config }

  // MARK: Command, status, power

  public var command: PCICommand { PCICommand(rawValue: config.get16(HeaderOffset.command)) }
  public var status: PCIStatus { PCIStatus(rawValue: config.get16(HeaderOffset.status)) }

  public var memorySpaceEnabled: Bool { command.contains(.memorySpace) }
  public var ioSpaceEnabled: Bool { command.contains(.ioSpace) }
  /// A device must not DMA (or send MSI-X writes, on real hardware) without it.
  public var busMasterEnabled: Bool { command.contains(.busMaster) }
  public var intxDisabled: Bool { command.contains(.intxDisable) }

  public var powerState: PowerState {
    PowerManagementCapability.powerState(in: config, capability: layout.powerManagement)
  }

  /// Latches error bits in Status (e.g. Received Master Abort after a DMA to
  /// an unmapped address). Non-error bits are ignored; the guest clears them
  /// by writing 1.
  public func latchStatusErrors(_ errors: PCIStatus) {
    setStatus(errors.intersection(.errors), true)
  }

  func setStatus(_ bits: PCIStatus, _ isSet: Bool) {
    var status = self.status
    if isSet { status.formUnion(bits) } else { status.subtract(bits) }
    config.set16(status.rawValue, at: HeaderOffset.status)
  }

  // MARK: Reset

  /// A function-level reset (PCIe Base 6.6.2) from outside the guest's
  /// config writes, e.g. a vfio-user DEVICE_RESET: the reset sink resets
  /// the device behind the BARs, then config space, the MSI-X table and PBA
  /// return to their defaults, keeping only the link settings (Max_Payload_Size,
  /// Link Control). The OS saves and restores the rest around the reset.
  public func functionLevelReset() {
    functionLevelReset(
      keeping: PCIExpressCapability.LinkSettings(of: config, capability: layout.pciExpress))
  }

  private func functionLevelReset(keeping linkSettings: PCIExpressCapability.LinkSettings) {
    resetSink?.functionWillReset()
    reset()
    linkSettings.restore(into: &config, capability: layout.pciExpress)
  }

  /// Power-on state again: BAR addresses, command, status, power state,
  /// MSI-X control, table (all vectors masked) and pending bits. Identity,
  /// BAR and MSI-X descriptions and the interrupt sink are kept.
  public func reset() {
    config = layout.powerOnConfig(identity: identity, bars: bars, msix: msixDescription)
    msixTable = msixDescription.map { MSIXTable(vectors: $0.vectors) }
  }
}
