/// The PCI Express capability (id 0x10, version 2), PCIe Base section 7.5.3.
///
/// Describes an Endpoint on an x4 8 GT/s (Gen3) link with 256-byte max
/// payload. The link is virtual, so these are what Linux's pcie code and
/// lspci expect to see from a real SSD; nothing is trained or enforced.
enum PCIExpressCapability {
  static let id: UInt8 = 0x10
  /// Version 2 layout: 0x3C bytes including the *2 registers.
  static let length = 0x3C

  // Register offsets inside the capability.
  static let capabilitiesRegister = 0x02
  static let deviceCapabilities = 0x04
  static let deviceControl = 0x08
  static let deviceStatus = 0x0A
  static let linkCapabilities = 0x0C
  static let linkControl = 0x10
  static let linkStatus = 0x12
  static let deviceCapabilities2 = 0x24
  static let linkCapabilities2 = 0x2C
  static let linkControl2 = 0x30

  /// Version 2, device/port type 0 = PCI Express Endpoint, no slot.
  static let capabilitiesValue: UInt16 = 0x0002

  /// Max_Payload_Size supported = 256 bytes (001), Extended Tag supported
  /// (bit 5), Role-Based Error Reporting (bit 15, required since PCIe 1.1),
  /// Function Level Reset Capability (bit 28): Linux resets a function
  /// through sysfs only when it finds a reset method, and FLR is its first.
  static let deviceCapabilitiesValue: UInt32 = 0x1000_8021

  /// Reset default: Relaxed Ordering and No Snoop enabled, Max_Payload 128,
  /// Max_Read_Request 512 (PCIe 7.5.3.4 defaults).
  static let deviceControlValue: UInt16 = 0x2810
  /// Error reporting enables (3:0), relaxed ordering (4), max payload (7:5),
  /// extended tag (8), no snoop (11), max read request (14:12), Initiate
  /// FLR (15: the write is acted on and the bit always reads 0, since the
  /// reset rebuilds the register). Phantom functions and aux power are
  /// unsupported and stay 0.
  static let deviceControlWritable: UInt16 = 0xF9FF
  static let initiateFunctionLevelReset: UInt16 = 1 << 15
  /// Max_Payload_Size: a setting of the link, which an FLR leaves alone
  /// (PCIe Base 6.6.2), like Link Control's.
  static let maxPayloadSizeField: UInt16 = 0x00E0
  /// Correctable / non-fatal / fatal / unsupported-request detected.
  static let deviceStatusWriteOneToClear: UInt16 = 0x000F

  /// Max link speed 3 (= bit 2 of the supported speeds vector, 8 GT/s), max
  /// width x4, no ASPM, ASPM Optionality Compliance (bit 22, PCIe 3.0+).
  static let linkCapabilitiesValue: UInt32 = 0x0040_0043
  /// Read Completion Boundary (3), Common Clock (6), Extended Synch (7).
  /// ASPM control stays 0 since no ASPM state is supported.
  static let linkControlWritable: UInt16 = 0x00C8
  /// Current speed 8 GT/s, negotiated width x4, Slot Clock Configuration.
  static let linkStatusValue: UInt16 = 0x1043
  /// Supported Link Speeds vector: 2.5, 5 and 8 GT/s. Linux reads this
  /// first (pcie_get_speed_cap); leaving it zero would cap us at 5 GT/s.
  static let linkCapabilities2Value: UInt32 = 0x0000_000E
  /// Target Link Speed 8 GT/s; read-only since the link cannot retrain.
  static let linkControl2Value: UInt16 = 0x0003

  /// Whether the write just applied asked for a function-level reset.
  static func functionLevelResetRequested(in config: ConfigSpace, capability offset: Int) -> Bool {
    config.get16(offset &+ deviceControl) & initiateFunctionLevelReset != 0
  }

  /// The fields an FLR keeps (PCIe Base 6.6.2: link settings), as saved
  /// from the old config and put back into the freshly reset one.
  struct LinkSettings {
    var maxPayloadSize: UInt16
    var linkControl: UInt16

    init(of config: ConfigSpace, capability offset: Int) {
      maxPayloadSize = config.get16(offset &+ deviceControl) & maxPayloadSizeField
      linkControl = config.get16(offset &+ PCIExpressCapability.linkControl) & linkControlWritable
    }

    func restore(into config: inout ConfigSpace, capability offset: Int) {
      let control = config.get16(offset &+ deviceControl) & ~maxPayloadSizeField
      config.set16(control | maxPayloadSize, at: offset &+ deviceControl)
      config.set16(linkControl, at: offset &+ PCIExpressCapability.linkControl)
    }
  }

  static func install(into config: inout ConfigSpace, at offset: Int, next: UInt8) {
    config.set8(id, at: offset)
    config.set8(next, at: offset &+ 1)
    config.set16(capabilitiesValue, at: offset &+ capabilitiesRegister)
    config.set32(deviceCapabilitiesValue, at: offset &+ deviceCapabilities)
    config.set16(deviceControlValue, at: offset &+ deviceControl)
    config.setMasks(writable: deviceControlWritable, at: offset &+ deviceControl)
    config.setMasks(
      writable: UInt16(0), writeOneToClear: deviceStatusWriteOneToClear,
      at: offset &+ deviceStatus)
    config.set32(linkCapabilitiesValue, at: offset &+ linkCapabilities)
    config.setMasks(writable: linkControlWritable, at: offset &+ linkControl)
    config.set16(linkStatusValue, at: offset &+ linkStatus)
    // Device Capabilities/Control 2: nothing optional (LTR, OBFF, atomics,
    // completion timeout ranges) is supported, so all zero and read-only.
    config.set32(linkCapabilities2Value, at: offset &+ linkCapabilities2)
    config.set16(linkControl2Value, at: offset &+ linkControl2)
  }
}
