/// Controller register offsets in BAR0 (NVMe Base 2.0, figure 33).
public enum RegisterOffset {
  public static let cap: UInt64 = 0x00
  public static let vs: UInt64 = 0x08
  public static let intms: UInt64 = 0x0C
  public static let intmc: UInt64 = 0x10
  public static let cc: UInt64 = 0x14
  public static let csts: UInt64 = 0x1C
  public static let nssr: UInt64 = 0x20
  public static let aqa: UInt64 = 0x24
  public static let asq: UInt64 = 0x28
  public static let acq: UInt64 = 0x30
  /// Doorbells start here; with CAP.DSTRD = 0 each is 4 bytes: SQ y tail at
  /// 0x1000 + 8y, CQ y head at 0x1000 + 8y + 4.
  public static let doorbells: UInt64 = 0x1000
}

/// Controller Capabilities (CAP), built from what the model supports.
public struct CapabilitiesRegister: Sendable, Hashable {
  /// Largest queue the controller accepts, in entries (MQES + 1).
  public var maxQueueEntries: Int
  /// CAP.TO: worst-case time to ready, in 500 ms units.
  public var timeout: UInt8
  /// Smallest and largest memory page size, as 2^(12 + n).
  public var mpsMin: UInt8
  public var mpsMax: UInt8

  public init(maxQueueEntries: Int, timeout: UInt8 = 20, mpsMin: UInt8 = 0, mpsMax: UInt8 = 4) {
    self.maxQueueEntries = max(2, min(maxQueueEntries, 65536))
    self.timeout = timeout
    self.mpsMin = mpsMin
    self.mpsMax = mpsMax
  }

  public var value: UInt64 {
    let mqes = UInt64(maxQueueEntries - 1)
    let contiguousQueuesRequired: UInt64 = 1 << 16
    let nvmCommandSet: UInt64 = 1 << 37
    return mqes | contiguousQueuesRequired | UInt64(timeout) << 24 | nvmCommandSet
      | UInt64(mpsMin & 0xF) << 48 | UInt64(mpsMax & 0xF) << 52
  }
}

/// Controller Configuration (CC) fields.
public struct ControllerConfigurationRegister: Sendable, Hashable {
  public var raw: UInt32
  public init(raw: UInt32 = 0) { self.raw = raw }

  public var enabled: Bool { raw & 1 != 0 }
  /// I/O Command Set Selected (CSS).
  public var commandSet: UInt8 { UInt8(truncatingIfNeeded: raw >> 4) & 0x7 }
  /// Memory Page Size: 2^(12 + MPS).
  public var mps: UInt8 { UInt8(truncatingIfNeeded: raw >> 7) & 0xF }
  /// Arbitration Mechanism Selected.
  public var ams: UInt8 { UInt8(truncatingIfNeeded: raw >> 11) & 0x7 }
  /// Shutdown Notification: 01b normal, 10b abrupt.
  public var shutdown: UInt8 { UInt8(truncatingIfNeeded: raw >> 14) & 0x3 }
  /// I/O SQ / CQ entry sizes as log2.
  public var iosqes: UInt8 { UInt8(truncatingIfNeeded: raw >> 16) & 0xF }
  public var iocqes: UInt8 { UInt8(truncatingIfNeeded: raw >> 20) & 0xF }

  public var pageSize: Int { 1 << (12 + Int(mps)) }
}

/// Controller Status (CSTS).
public struct ControllerStatusRegister: Sendable, Hashable {
  public var ready = false
  public var fatal = false
  /// Shutdown status: 00b normal, 01b in progress, 10b complete.
  public var shutdownStatus: UInt8 = 0

  public init() {}

  public var value: UInt32 {
    (ready ? 1 : 0) | (fatal ? 2 : 0) | UInt32(shutdownStatus & 0x3) << 2
  }
}

/// Admin Queue Attributes (AQA): 0-based sizes.
public struct AdminQueueAttributes: Sendable, Hashable {
  public var raw: UInt32
  public init(raw: UInt32 = 0) { self.raw = raw }
  public var submissionEntries: Int { Int(raw & 0xFFF) + 1 }
  public var completionEntries: Int { Int((raw >> 16) & 0xFFF) + 1 }
}
