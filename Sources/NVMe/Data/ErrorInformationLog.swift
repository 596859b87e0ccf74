/// One 64-byte Error Information log entry (Base 2.0 Figure 205; Linux/libnvme
/// `struct nvme_error_log_page`).
public struct ErrorInformationEntry: Sendable, Hashable {
  public static let size = 64

  /// Unique, incrementing; 0 marks an empty entry, so it is assigned by `ErrorLog`.
  public var errorCount: UInt64
  public var submissionQueueID: UInt16
  public var commandID: UInt16
  /// The 15-bit status as posted in CQE DW3 bits 31:17 (SC, SCT, CRD, M, DNR).
  public var status: UInt16
  public var phaseTag: Bool
  /// Byte (7:0) and bit (10:8) of the command field in error; FFFFh = n/a.
  public var parameterErrorLocation: UInt16
  public var lba: UInt64
  public var namespaceID: UInt32
  public var vendorSpecificLogPage: UInt8
  /// Transport type: 0 for PCIe.
  public var transportType: UInt8
  public var commandSetIdentifier: UInt8
  public var commandSpecificInformation: UInt64
  public var transportTypeSpecificInformation: UInt16

  public init(
    submissionQueueID: UInt16, commandID: UInt16, status: UInt16, phaseTag: Bool = false,
    parameterErrorLocation: UInt16 = 0xFFFF, lba: UInt64 = 0, namespaceID: UInt32 = 0,
    commandSetIdentifier: UInt8 = 0, commandSpecificInformation: UInt64 = 0
  ) {
    self.errorCount = 0
    self.submissionQueueID = submissionQueueID
    self.commandID = commandID
    self.status = status
    self.phaseTag = phaseTag
    self.parameterErrorLocation = parameterErrorLocation
    self.lba = lba
    self.namespaceID = namespaceID
    self.vendorSpecificLogPage = 0
    self.transportType = 0
    self.commandSetIdentifier = commandSetIdentifier
    self.commandSpecificInformation = commandSpecificInformation
    self.transportTypeSpecificInformation = 0
  }

  public func write(into page: inout DataPage, at offset: Int) {
    page.put(errorCount, at: offset)
    page.put(submissionQueueID, at: offset + 8)
    page.put(commandID, at: offset + 10)
    // Status Field: phase tag in bit 0, status in 15:1 as in the CQE.
    page.put((status & 0x7FFF) << 1 | (phaseTag ? 1 : 0), at: offset + 12)
    page.put(parameterErrorLocation, at: offset + 14)
    page.put(lba, at: offset + 16)
    page.put(namespaceID, at: offset + 24)
    page.put(vendorSpecificLogPage, at: offset + 28)
    page.put(transportType, at: offset + 29)
    page.put(commandSetIdentifier, at: offset + 30)
    page.put(commandSpecificInformation, at: offset + 32)
    page.put(transportTypeSpecificInformation, at: offset + 40)
  }
}

/// The Error Information log: a bounded history, newest entry first.
public struct ErrorLog: Sendable, Hashable {
  /// ELPE + 1 entries are retained.
  public let capacity: Int
  public private(set) var entries: [ErrorInformationEntry] = []
  /// Last error count handed out; also the SMART "Number of Error Information
  /// Log Entries" value over the controller's life.
  public private(set) var lifetimeCount: UInt64 = 0

  public init(capacity: Int) {
    self.capacity = max(1, capacity)
  }

  /// Records `entry` with the next error count. The count skips 0 on wrap
  /// because 0 means "invalid entry".
  public mutating func record(_ entry: ErrorInformationEntry) {
    lifetimeCount = lifetimeCount == UInt64.max ? 1 : lifetimeCount + 1
    var stamped = entry
    stamped.errorCount = lifetimeCount
    entries.insert(stamped, at: 0)
    if entries.count > capacity { entries.removeLast(entries.count - capacity) }
  }

  /// The whole log: `capacity` 64-byte entries, unused ones zero.
  public func encode() -> [UInt8] {
    var page = DataPage(size: capacity * ErrorInformationEntry.size)
    for (index, entry) in entries.enumerated() {
      entry.write(into: &page, at: index * ErrorInformationEntry.size)
    }
    return page.bytes
  }
}
