import NVMe
import NVMeHostDriver
import VFIOUserClient

/// What the fault tests ask of a host beyond the driver's own calls:
/// asynchronous events, log pages, statuses of commands that fail.
extension NVMeHost {
  /// Asynchronous event: type 0 (error status), log page 01h (Error
  /// Information), with `info` 00h (write to an invalid doorbell register)
  /// or 01h (invalid doorbell write value). NVMe Base 2.0, figure 147.
  static func errorEvent(info: UInt32) -> UInt32 { 0x0001_0000 | info << 8 }

  /// Submits an Asynchronous Event Request, which completes only when the
  /// controller has an event; returns its command ID.
  @discardableResult
  func parkAsyncEvent() throws -> UInt16 {
    guard let queue = adminQueue else { throw NVMeHostError.invalidArgument("not enabled") }
    return try queue.submit(NVMeCommand(opcode: AdminOpcode.asynchronousEventRequest.rawValue))
  }

  /// Waits for the parked request to complete; returns its Dword 0, or nil
  /// when nothing came within the timeout.
  func awaitAsyncEvent(timeoutMilliseconds: Int = 5000) throws -> UInt32? {
    guard let queue = adminQueue else { throw NVMeHostError.invalidArgument("not enabled") }
    guard try queue.waitForCompletion(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
    var result: NVMeCompletion?
    try queue.reap(limit: 1) { result = $0 }
    guard let result, result.isSuccess else {
      throw NVMeHostError.protocolViolation(
        "event request ended with \(String(describing: result))")
    }
    return result.dw0
  }

  /// Get Log Page of `bytes` (a multiple of 4, at most 4096) into `buffer`,
  /// with RAE clear: reading a log acknowledges the events reported on it.
  func logPage(_ identifier: UInt8, bytes: Int, into buffer: GuestBuffer) throws -> [UInt8] {
    let dwords = UInt32(bytes / 4 - 1)
    try admin(
      NVMeCommand(
        opcode: AdminOpcode.getLogPage.rawValue, namespaceID: 0xFFFF_FFFF,
        cdw10: (dwords & 0xFFFF) << 16 | UInt32(identifier), cdw11: dwords >> 16, data: buffer))
    return Array(buffer.bytes[0..<bytes])
  }

  /// The newest Error Information log entry (log page 01h).
  func newestError(buffer: GuestBuffer) throws -> ErrorEntry {
    ErrorEntry(try logPage(0x01, bytes: 64, into: buffer))
  }

  /// SMART / Health log (02h): Media and Data Integrity Errors (bytes 160-175,
  /// low 64 bits).
  func mediaErrors(buffer: GuestBuffer) throws -> UInt64 {
    let page = try logPage(0x02, bytes: 512, into: buffer)
    return (0..<8).reduce(UInt64(0)) { $0 | UInt64(page[160 + $1]) << (8 * $1) }
  }

  /// The status `command` completes with on `queue` (success included).
  func status(of command: NVMeCommand, on queue: NVMeQueue) throws -> NVMeStatus {
    do {
      try execute(command, on: queue)
      return .success
    } catch {
      guard let status = error.status else { throw error }
      return status
    }
  }

  /// The status of an admin command (success included).
  func adminStatus(_ command: NVMeCommand) throws -> NVMeStatus {
    do {
      try admin(command)
      return .success
    } catch {
      guard let status = error.status else { throw error }
      return status
    }
  }
}

/// One Error Information log entry as the host reads it (Base 2.0, figure 205).
struct ErrorEntry: CustomStringConvertible {
  var errorCount: UInt64
  var submissionQueueID: UInt16
  var commandID: UInt16
  var status: NVMeStatus
  var lba: UInt64
  var namespaceID: UInt32

  init(_ bytes: [UInt8]) {
    func value(_ offset: Int, _ size: Int) -> UInt64 {
      (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }
    errorCount = value(0, 8)
    submissionQueueID = UInt16(truncatingIfNeeded: value(8, 2))
    commandID = UInt16(truncatingIfNeeded: value(10, 2))
    status = NVMeStatus(encoded: UInt16(truncatingIfNeeded: value(12, 2) >> 1))
    lba = value(16, 8)
    namespaceID = UInt32(truncatingIfNeeded: value(24, 4))
  }

  var description: String {
    "error #\(errorCount): SQ \(submissionQueueID) CID \(commandID) \(status) LBA \(lba) NSID \(namespaceID)"
  }
}

/// Writes every block of `buffer` with `BlockStamp` data for `lba`.
func fillStamped(_ buffer: GuestBuffer, lba: UInt64, stamp: UInt64) {
  BlockStamp.fill(buffer.bytes, lba: lba, stamp: stamp)
}

/// Whether every block of `buffer` carries `stamp` for its LBA.
func carries(_ buffer: GuestBuffer, lba: UInt64, stamp: UInt64) -> Bool {
  (0..<buffer.count / BlockStamp.blockSize).allSatisfy { block in
    BlockStamp.stamp(
      in: UnsafeRawBufferPointer(buffer.bytes), at: block * BlockStamp.blockSize,
      lba: lba + UInt64(block)) == stamp
  }
}
