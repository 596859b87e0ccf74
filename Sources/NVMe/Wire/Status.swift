/// Status Code Type values (NVMe Base 2.0, figure 94).
public enum StatusCodeType {
  public static let generic: UInt8 = 0
  public static let commandSpecific: UInt8 = 1
  public static let mediaAndDataIntegrity: UInt8 = 2
  public static let pathRelated: UInt8 = 3
  public static let vendorSpecific: UInt8 = 7
}

/// The status of a completed command: what goes into CQE DW3 bits 31:17.
///
/// Encoded as 15 bits (the CQE status field without the phase tag):
/// SC in bits 7:0, SCT in 10:8, CRD in 12:11, More in 13, DNR in 14 —
/// i.e. DW3 bits 24:17, 27:25, 29:28, 30 and 31. It doubles as the error
/// type of the data pointer walkers so a failure maps straight to a CQE.
public struct NVMeStatus: Error, Sendable, Hashable, CustomStringConvertible {
  /// Status Code Type (3 bits).
  public var sct: UInt8
  /// Status Code.
  public var sc: UInt8
  /// Do Not Retry: the same command would fail again.
  public var dnr: Bool
  /// More information is in the Error Information log page.
  public var more: Bool
  /// Command Retry Delay index (2 bits); 0 = no delay.
  public var crd: UInt8

  public init(sct: UInt8, sc: UInt8, dnr: Bool = false, more: Bool = false, crd: UInt8 = 0) {
    self.sct = sct & 0x7
    self.sc = sc
    self.dnr = dnr
    self.more = more
    self.crd = crd & 0x3
  }

  /// Decodes the 15-bit form (the CQE status field shifted right by one).
  public init(encoded: UInt16) {
    self.init(
      sct: UInt8(truncatingIfNeeded: encoded >> 8) & 0x7,
      sc: UInt8(truncatingIfNeeded: encoded),
      dnr: encoded & 0x4000 != 0,
      more: encoded & 0x2000 != 0,
      crd: UInt8(truncatingIfNeeded: encoded >> 11) & 0x3)
  }

  /// The 15-bit status (bit 14 = DNR); shift left by one and OR the phase tag
  /// to get the CQE status field.
  public var encoded: UInt16 {
    UInt16(sc) | UInt16(sct & 0x7) << 8 | UInt16(crd & 0x3) << 11
      | (more ? 0x2000 : 0) | (dnr ? 0x4000 : 0)
  }

  public var isSuccess: Bool { sct == StatusCodeType.generic && sc == 0 }

  /// Same status with DNR set or cleared.
  public func doNotRetry(_ value: Bool = true) -> NVMeStatus {
    var copy = self
    copy.dnr = value
    return copy
  }

  /// Same status, flagged as having an Error Information log entry.
  public func withMore(_ value: Bool = true) -> NVMeStatus {
    var copy = self
    copy.more = value
    return copy
  }

  /// True when SCT and SC match, ignoring DNR/More/CRD.
  public func matches(_ other: NVMeStatus) -> Bool { sct == other.sct && sc == other.sc }

  /// The status by name (`text`), e.g. "Invalid Namespace or Format (0x0B)".
  public var description: String { text }
}
