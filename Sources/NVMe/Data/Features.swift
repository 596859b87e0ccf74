/// Feature Identifiers (Base 2.0 Figure 317; NVM Command Set 1.0 Figure 23).
public enum FeatureID: UInt8, Sendable, Hashable, CaseIterable {
  case arbitration = 0x01
  case powerManagement = 0x02
  case lbaRangeType = 0x03
  case temperatureThreshold = 0x04
  case errorRecovery = 0x05
  case volatileWriteCache = 0x06
  case numberOfQueues = 0x07
  case interruptCoalescing = 0x08
  case interruptVectorConfiguration = 0x09
  case writeAtomicityNormal = 0x0A
  case asynchronousEventConfiguration = 0x0B
  case autonomousPowerStateTransition = 0x0C
  case hostMemoryBuffer = 0x0D
  case timestamp = 0x0E
  case keepAliveTimer = 0x0F
  case hostControlledThermalManagement = 0x10
  case nonOperationalPowerStateConfig = 0x11
  case readRecoveryLevelConfig = 0x12
  case predictableLatencyModeConfig = 0x13
  case predictableLatencyModeWindow = 0x14
  case hostBehaviorSupport = 0x16
  case sanitizeConfig = 0x17
  case enduranceGroupEventConfiguration = 0x18
  case ioCommandSetProfile = 0x19
  case spinupControl = 0x1A
  case softwareProgressMarker = 0x80
  case hostIdentifier = 0x81
  case reservationNotificationMask = 0x82
  case reservationPersistence = 0x83
  case namespaceWriteProtectionConfig = 0x84
}

/// Get Features SEL (CDW10 bits 10:8). 100b-111b are reserved: `init?` fails.
public enum FeatureSelect: UInt8, Sendable, Hashable {
  case current = 0b000
  case defaultValue = 0b001
  case saved = 0b010
  case supportedCapabilities = 0b011

  /// Decodes FID and SEL from Get Features CDW10.
  public static func decode(cdw10: UInt32) -> (fid: UInt8, select: FeatureSelect?) {
    (UInt8(truncatingIfNeeded: cdw10), FeatureSelect(rawValue: UInt8((cdw10 >> 8) & 0x7)))
  }
}

/// The dword returned for SEL = 011b (Base 2.0 Figure 321).
public struct FeatureCapabilities: OptionSet, Sendable, Hashable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public static let saveable = FeatureCapabilities(rawValue: 1 << 0)
  public static let namespaceSpecific = FeatureCapabilities(rawValue: 1 << 1)
  public static let changeable = FeatureCapabilities(rawValue: 1 << 2)
}

/// What Get Features completes with: Dword 0 of the CQE and, for features that
/// carry a data structure (timestamp, host behavior), the bytes to transfer.
public struct FeatureReply: Sendable, Hashable {
  public var dword0: UInt32
  public var data: [UInt8]?
  public init(dword0: UInt32, data: [UInt8]? = nil) {
    self.dword0 = dword0
    self.data = data
  }
}
