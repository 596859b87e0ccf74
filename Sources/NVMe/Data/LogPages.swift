/// Log page identifiers (Base 2.0 Figure 202) and the Get Log Page range logic.
public enum LogPageID: UInt8, Sendable, Hashable, CaseIterable {
  case supportedLogPages = 0x00
  case errorInformation = 0x01
  case smartHealth = 0x02
  case firmwareSlot = 0x03
  case changedNamespaceList = 0x04
  case commandsSupportedAndEffects = 0x05
  case deviceSelfTest = 0x06
  case telemetryHostInitiated = 0x07
  case telemetryControllerInitiated = 0x08
  case enduranceGroupInformation = 0x09
  case persistentEventLog = 0x0D
  case sanitizeStatus = 0x81
}

/// The Get Log Page fields of CDW10..CDW14, decoded once from the copied SQE.
public struct LogPageRequest: Sendable, Hashable {
  public var logPageID: UInt8
  /// Log Specific Parameter (CDW10 bits 14:8).
  public var lsp: UInt8
  /// Retain Asynchronous Event: reading must not clear the pending event.
  public var retainAsyncEvent: Bool
  /// NUMD: number of dwords to return, 0-based (NUMDU:NUMDL).
  public var numberOfDwordsZeroBased: UInt32
  public var logSpecificIdentifier: UInt16
  /// LPOU:LPOL, a byte offset when `offsetIsIndex` is false.
  public var offset: UInt64
  public var uuidIndex: UInt8
  /// OT (CDW14 bit 23): the offset is an index into a list of entries.
  public var offsetIsIndex: Bool
  public var commandSetIdentifier: UInt8

  public init(cdw10: UInt32, cdw11: UInt32, cdw12: UInt32, cdw13: UInt32, cdw14: UInt32) {
    logPageID = UInt8(truncatingIfNeeded: cdw10)
    lsp = UInt8(truncatingIfNeeded: cdw10 >> 8) & 0x7F
    retainAsyncEvent = cdw10 & (1 << 15) != 0
    numberOfDwordsZeroBased = (cdw11 & 0xFFFF) << 16 | cdw10 >> 16
    logSpecificIdentifier = UInt16(truncatingIfNeeded: cdw11 >> 16)
    offset = UInt64(cdw13) << 32 | UInt64(cdw12)
    uuidIndex = UInt8(truncatingIfNeeded: cdw14) & 0x7F
    offsetIsIndex = cdw14 & (1 << 23) != 0
    commandSetIdentifier = UInt8(truncatingIfNeeded: cdw14 >> 24)
  }

  /// Requested transfer size in bytes: (NUMD + 1) * 4, up to 16 GiB, so 64-bit.
  public var requestedLength: UInt64 {
    (UInt64(numberOfDwordsZeroBased) + 1) * 4
  }

  public var logPage: LogPageID? { LogPageID(rawValue: logPageID) }

  /// The bytes of `page` this request selects, or nil when the caller must
  /// complete with Invalid Field in Command:
  /// - the offset is not dword aligned (LPOL bits 1:0 set),
  /// - the offset is an index (OT=1; no log here supports index offsets),
  /// - the offset is at or past the end of the page.
  ///
  /// Rule for length: the result is clipped at the end of the page, so it may
  /// be shorter than `requestedLength`; the caller transfers only these bytes
  /// and leaves the rest of the host buffer untouched (as QEMU's model does).
  public func slice(of page: [UInt8]) -> [UInt8]? {
    guard !offsetIsIndex, offset & 0x3 == 0, offset < UInt64(page.count) else { return nil }
    let start = Int(offset)  // < page.count, so it fits
    let available = UInt64(page.count - start)
    let length = Int(min(available, requestedLength))
    return Array(page[start..<(start + length)])
  }
}

/// Supported Log Pages (LID 00h): 256 dwords, LSUPP in bit 0 of each.
public enum SupportedLogPages {
  public static let size = 1024

  public static func encode(_ supported: [UInt8]) -> [UInt8] {
    var page = DataPage(size: size)
    for lid in Set(supported) {
      page.put(UInt32(1), at: Int(lid) * 4)
    }
    return page.bytes
  }
}
