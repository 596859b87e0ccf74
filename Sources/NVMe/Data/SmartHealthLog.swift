/// SMART / Health Information log (LID 02h), 512 bytes, Base 2.0 Figure 207
/// (Linux `struct nvme_smart_log`). The 128-bit counters are kept as UInt64:
/// the high half stays zero for any realistic lifetime.
public struct SmartHealthLog: Sendable, Hashable {
  public static let size = 512

  /// Critical Warning bits.
  public enum CriticalWarning {
    public static let spareBelowThreshold: UInt8 = 1 << 0
    public static let temperature: UInt8 = 1 << 1
    public static let reliabilityDegraded: UInt8 = 1 << 2
    public static let readOnly: UInt8 = 1 << 3
    public static let volatileBackupFailed: UInt8 = 1 << 4
  }

  public var criticalWarning: UInt8 = 0
  /// Composite temperature in Kelvin.
  public var compositeTemperature: UInt16 = 310
  /// Percentages, 0...100.
  public var availableSpare: UInt8 = 100
  public var availableSpareThreshold: UInt8 = 10
  /// Vendor estimate of life used; may exceed 100 (255 means 255 or more).
  public var percentageUsed: UInt8 = 0
  public var enduranceGroupCriticalWarningSummary: UInt8 = 0
  /// Data units: thousands of 512-byte units, rounded up (see `dataUnits`).
  public var dataUnitsRead: UInt64 = 0
  public var dataUnitsWritten: UInt64 = 0
  public var hostReadCommands: UInt64 = 0
  public var hostWriteCommands: UInt64 = 0
  /// Minutes spent with I/O outstanding.
  public var controllerBusyTime: UInt64 = 0
  public var powerCycles: UInt64 = 0
  public var powerOnHours: UInt64 = 0
  public var unsafeShutdowns: UInt64 = 0
  public var mediaErrors: UInt64 = 0
  public var errorLogEntries: UInt64 = 0
  /// Minutes above WCTEMP / CCTEMP.
  public var warningTemperatureTime: UInt32 = 0
  public var criticalTemperatureTime: UInt32 = 0
  /// Up to 8 sensors in Kelvin; 0 = sensor not implemented.
  public var temperatureSensors: [UInt16] = []

  public init() {}

  /// Converts a byte count into SMART data units: 1 unit = 1000 * 512 bytes,
  /// rounded up, so any nonzero amount up to 512,000 bytes reports 1.
  public static func dataUnits(forBytes bytes: UInt64) -> UInt64 {
    let (units, remainder) = bytes.quotientAndRemainder(dividingBy: 512_000)
    return remainder == 0 ? units : units + 1
  }

  /// Same rule from a count of 512-byte units.
  public static func dataUnits(for512ByteUnits sectors: UInt64) -> UInt64 {
    let (units, remainder) = sectors.quotientAndRemainder(dividingBy: 1000)
    return remainder == 0 ? units : units + 1
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(criticalWarning, at: 0)
    page.put(compositeTemperature, at: 1)
    page.put(min(availableSpare, 100), at: 3)
    page.put(min(availableSpareThreshold, 100), at: 4)
    page.put(percentageUsed, at: 5)
    page.put(enduranceGroupCriticalWarningSummary, at: 6)
    page.put128(low: dataUnitsRead, at: 32)
    page.put128(low: dataUnitsWritten, at: 48)
    page.put128(low: hostReadCommands, at: 64)
    page.put128(low: hostWriteCommands, at: 80)
    page.put128(low: controllerBusyTime, at: 96)
    page.put128(low: powerCycles, at: 112)
    page.put128(low: powerOnHours, at: 128)
    page.put128(low: unsafeShutdowns, at: 144)
    page.put128(low: mediaErrors, at: 160)
    page.put128(low: errorLogEntries, at: 176)
    page.put(warningTemperatureTime, at: 192)
    page.put(criticalTemperatureTime, at: 196)
    for (index, kelvin) in temperatureSensors.prefix(8).enumerated() {
      page.put(kelvin, at: 200 + index * 2)
    }
    return page.bytes
  }
}
