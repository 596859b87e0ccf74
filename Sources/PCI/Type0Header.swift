/// Offsets of the type-0 (endpoint) configuration header, PCI Local Bus 3.0
/// section 6.1 / PCIe Base section 7.5.1.
public enum HeaderOffset {
  public static let vendorID = 0x00
  public static let deviceID = 0x02
  public static let command = 0x04
  public static let status = 0x06
  public static let revisionID = 0x08
  /// Programming interface at 0x09, sub-class at 0x0A, base class at 0x0B.
  public static let classCode = 0x09
  public static let cacheLineSize = 0x0C
  public static let latencyTimer = 0x0D
  public static let headerType = 0x0E
  public static let bist = 0x0F
  public static let bar0 = 0x10
  public static let subsystemVendorID = 0x2C
  public static let subsystemID = 0x2E
  public static let expansionROM = 0x30
  public static let capabilitiesPointer = 0x34
  public static let interruptLine = 0x3C
  public static let interruptPin = 0x3D

  /// Config offset of the dword for BAR `index` (0...5).
  public static func bar(_ index: Int) -> Int { bar0 + 4 * index }
}

/// The Command register (offset 0x04).
public struct PCICommand: OptionSet, Sendable, Hashable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let ioSpace = PCICommand(rawValue: 1 << 0)
  public static let memorySpace = PCICommand(rawValue: 1 << 1)
  public static let busMaster = PCICommand(rawValue: 1 << 2)
  public static let serrEnable = PCICommand(rawValue: 1 << 8)
  public static let intxDisable = PCICommand(rawValue: 1 << 10)

  /// The only bits a guest can change; the rest are hardwired to 0 on a PCIe
  /// endpoint (special cycles, MWI, VGA snoop, parity response, fast b2b).
  public static let guestWritable: PCICommand = [
    .ioSpace, .memorySpace, .busMaster, .serrEnable, .intxDisable,
  ]
}

/// The Status register (offset 0x06).
public struct PCIStatus: OptionSet, Sendable, Hashable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// Set by the device while its INTx is asserted; read-only to the guest.
  // The spec's name for the bit.
  // swift-format-ignore: DontRepeatTypeInStaticProperties
  public static let interruptStatus = PCIStatus(rawValue: 1 << 3)
  /// Says a capabilities list hangs off offset 0x34; read-only.
  public static let capabilitiesList = PCIStatus(rawValue: 1 << 4)
  public static let masterDataParityError = PCIStatus(rawValue: 1 << 8)
  public static let signaledTargetAbort = PCIStatus(rawValue: 1 << 11)
  public static let receivedTargetAbort = PCIStatus(rawValue: 1 << 12)
  public static let receivedMasterAbort = PCIStatus(rawValue: 1 << 13)
  public static let signaledSystemError = PCIStatus(rawValue: 1 << 14)
  public static let detectedParityError = PCIStatus(rawValue: 1 << 15)

  /// Error bits: latched by the device, cleared by the guest writing 1.
  public static let errors: PCIStatus = [
    .masterDataParityError, .signaledTargetAbort, .receivedTargetAbort,
    .receivedMasterAbort, .signaledSystemError, .detectedParityError,
  ]
}

/// Writes the power-on type-0 header (everything except BARs and
/// capabilities) and its masks.
enum Type0Header {
  static func install(
    into config: inout ConfigSpace, identity: PCIIdentity, capabilitiesPointer: UInt8
  ) {
    config.set16(identity.vendorID, at: HeaderOffset.vendorID)
    config.set16(identity.deviceID, at: HeaderOffset.deviceID)

    config.set16(0, at: HeaderOffset.command)
    config.setMasks(writable: PCICommand.guestWritable.rawValue, at: HeaderOffset.command)

    let status: PCIStatus = capabilitiesPointer != 0 ? .capabilitiesList : []
    config.set16(status.rawValue, at: HeaderOffset.status)
    config.setMasks(
      writable: UInt16(0), writeOneToClear: PCIStatus.errors.rawValue, at: HeaderOffset.status)

    config.set8(identity.revisionID, at: HeaderOffset.revisionID)
    config.set8(identity.programmingInterface, at: HeaderOffset.classCode)
    config.set8(identity.subClass, at: HeaderOffset.classCode + 1)
    config.set8(identity.baseClass, at: HeaderOffset.classCode + 2)

    // Cache line size is plain storage for the OS. The latency timer is
    // hardwired to 0 on PCIe (there is no bus to time), so it stays RO.
    config.setMasks(writable: UInt8(0xFF), at: HeaderOffset.cacheLineSize)
    // Header type 0, single function; BIST not supported: both stay 0.

    config.set16(identity.subsystemVendorID, at: HeaderOffset.subsystemVendorID)
    config.set16(identity.subsystemID, at: HeaderOffset.subsystemID)
    // Expansion ROM BAR stays 0 and read-only: sizing it reads back 0 = no ROM.

    config.set8(capabilitiesPointer, at: HeaderOffset.capabilitiesPointer)
    config.setMasks(writable: UInt8(0xFF), at: HeaderOffset.interruptLine)
    config.set8(1, at: HeaderOffset.interruptPin)  // INTA#, the INTx fallback
  }
}
