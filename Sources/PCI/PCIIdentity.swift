/// Who a PCI function says it is: the read-only identification fields of the
/// type-0 header.
public struct PCIIdentity: Sendable, Hashable {
  public var vendorID: UInt16
  public var deviceID: UInt16
  public var subsystemVendorID: UInt16
  public var subsystemID: UInt16
  public var revisionID: UInt8
  /// 24-bit class code: base class (bits 23:16), sub-class (15:8), programming
  /// interface (7:0). Bits above 23 are ignored.
  public var classCode: UInt32

  public init(
    vendorID: UInt16, deviceID: UInt16, subsystemVendorID: UInt16, subsystemID: UInt16,
    revisionID: UInt8, classCode: UInt32
  ) {
    self.vendorID = vendorID
    self.deviceID = deviceID
    self.subsystemVendorID = subsystemVendorID
    self.subsystemID = subsystemID
    self.revisionID = revisionID
    self.classCode = classCode & 0x00FF_FFFF
  }

  public var baseClass: UInt8 { UInt8(truncatingIfNeeded: classCode >> 16) }
  public var subClass: UInt8 { UInt8(truncatingIfNeeded: classCode >> 8) }
  public var programmingInterface: UInt8 { UInt8(truncatingIfNeeded: classCode) }

  /// Our own IDs ("NV", "VF"), deliberately not a quirked ID such as QEMU's
  /// 1b36:0010, so guest drivers apply no device-specific workarounds.
  /// Class 01:08:02 = mass storage / NVM / NVM Express, which Linux's nvme
  /// driver binds on.
  public static let nvmeDefault = PCIIdentity(
    vendorID: 0x4E56, deviceID: 0x5646, subsystemVendorID: 0x4E56, subsystemID: 0x5646,
    revisionID: 0, classCode: 0x01_08_02)
}
