/// PCI power states, as encoded in PMCSR bits 1:0.
public enum PowerState: UInt8, Sendable, Hashable {
  case d0 = 0
  case d1 = 1
  case d2 = 2
  case d3hot = 3
}

/// The Power Management capability (id 0x01, PCI PM 1.2 = version 3).
///
/// Only D0 and D3hot are supported, as on most NVMe SSDs. No_Soft_Reset is
/// a property of the function (read-only to the guest): set, D3hot -> D0
/// keeps all state; clear, that edge resets the function as an FLR does.
enum PowerManagementCapability {
  static let id: UInt8 = 0x01
  static let length = 8
  /// PMC: version 3, no PME, no D1/D2, no aux current.
  static let capabilities: UInt16 = 0x0003
  static let pmcsrOffset = 4
  static let powerStateMask: UInt16 = 0x0003
  static let noSoftReset: UInt16 = 1 << 3

  static func install(
    into config: inout ConfigSpace, at offset: Int, next: UInt8, keepsStateInD3hot: Bool
  ) {
    config.set8(id, at: offset)
    config.set8(next, at: offset &+ 1)
    config.set16(capabilities, at: offset &+ 2)
    let flags = keepsStateInD3hot ? noSoftReset : 0
    config.set16(flags | UInt16(PowerState.d0.rawValue), at: offset &+ pmcsrOffset)
    config.setMasks(writable: powerStateMask, at: offset &+ pmcsrOffset)
  }

  static func powerState(in config: ConfigSpace, capability offset: Int) -> PowerState {
    let bits = config.get16(offset &+ pmcsrOffset) & powerStateMask
    return PowerState(rawValue: UInt8(truncatingIfNeeded: bits)) ?? .d0
  }

  /// Puts back the previous state when the guest asked for one we do not
  /// support. The PM spec says such a write completes but changes nothing.
  static func refuseUnsupportedState(
    in config: inout ConfigSpace, capability offset: Int, previous: PowerState
  ) {
    switch powerState(in: config, capability: offset) {
    case .d0, .d3hot: return
    case .d1, .d2:
      let pmcsr = config.get16(offset &+ pmcsrOffset) & ~powerStateMask
      config.set16(pmcsr | UInt16(previous.rawValue), at: offset &+ pmcsrOffset)
    }
  }
}
