import Testing

@testable import NVMe

private func le<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T? {
  DataPage.read(T.self, from: bytes, at: offset)
}

/// Builds a Get Log Page request for `lid` with a byte offset and 0-based NUMD.
private func request(
  lid: UInt8 = 2, offset: UInt64 = 0, numd: UInt32, offsetIsIndex: Bool = false
) -> LogPageRequest {
  LogPageRequest(
    cdw10: UInt32(lid) | (numd & 0xFFFF) << 16, cdw11: numd >> 16,
    cdw12: UInt32(truncatingIfNeeded: offset), cdw13: UInt32(truncatingIfNeeded: offset >> 32),
    cdw14: offsetIsIndex ? 1 << 23 : 0)
}

@Suite("Log pages: Get Log Page decoding and slicing")
struct LogPageRequestTests {
  let page: [UInt8] = (0..<512).map { UInt8(truncatingIfNeeded: $0) }

  @Test("CDW10-14 fields decode: LID, LSP, RAE, NUMDU:NUMDL, LSI, LPOU:LPOL, UUID, OT, CSI")
  func decode() {
    let r = LogPageRequest(
      cdw10: 0xABCD_0000 | 1 << 15 | 0x05 << 8 | 0x02, cdw11: 0x1234_0001,
      cdw12: 0x8000_0000, cdw13: 0x1, cdw14: 0x0200_0003)
    #expect(r.logPageID == 2)
    #expect(r.logPage == .smartHealth)
    #expect(r.lsp == 5)
    #expect(r.retainAsyncEvent)
    #expect(r.numberOfDwordsZeroBased == 0x1_ABCD)
    #expect(r.requestedLength == (0x1_ABCD + 1) * 4)
    #expect(r.logSpecificIdentifier == 0x1234)
    #expect(r.offset == 0x1_8000_0000)
    #expect(r.uuidIndex == 3)
    #expect(!r.offsetIsIndex)
    #expect(r.commandSetIdentifier == 2)
  }

  @Test("Exact, clipped and offset slices")
  func slices() {
    #expect(request(numd: 127).slice(of: page) == page)  // exactly 512 bytes
    #expect(request(numd: 0xFFFF_FFFF).slice(of: page) == page)  // clipped, no overflow
    #expect(request(offset: 508, numd: 9).slice(of: page) == [252, 253, 254, 255])
    #expect(request(offset: 64, numd: 1).slice(of: page) == [64, 65, 66, 67, 68, 69, 70, 71])
  }

  @Test("Unaligned, past-the-end and index offsets are rejected")
  func rejects() {
    #expect(request(offset: 2, numd: 0).slice(of: page) == nil)
    #expect(request(offset: 512, numd: 0).slice(of: page) == nil)
    #expect(request(offset: 1 << 40, numd: 0).slice(of: page) == nil)
    #expect(request(offset: 0xFFFF_FFFF_FFFF_FFFC, numd: 0xFFFF_FFFF).slice(of: page) == nil)
    #expect(request(offset: 0, numd: 0, offsetIsIndex: true).slice(of: page) == nil)
  }

  @Test("Supported log pages sets LSUPP per LID")
  func supported() {
    let b = SupportedLogPages.encode([0, 1, 2, 3, 4, 5])
    #expect(b.count == 1024)
    #expect((0...5).allSatisfy { le(b, $0 * 4, as: UInt32.self) == 1 })
    #expect(le(b, 6 * 4, as: UInt32.self) == 0)
  }
}

@Suite("Log pages: SMART / Health (LID 02h)")
struct LogSmartHealthTests {
  @Test("Field offsets follow the 512-byte layout")
  func offsets() {
    var log = SmartHealthLog()
    log.criticalWarning = SmartHealthLog.CriticalWarning.temperature
    log.compositeTemperature = 0x0136  // 310 K
    log.availableSpare = 100
    log.availableSpareThreshold = 10
    log.percentageUsed = 3
    log.dataUnitsRead = 0x11
    log.dataUnitsWritten = 0x22
    log.hostReadCommands = 0x33
    log.hostWriteCommands = 0x44
    log.controllerBusyTime = 0x55
    log.powerCycles = 0x66
    log.powerOnHours = 0x77
    log.unsafeShutdowns = 0x88
    log.mediaErrors = 0x99
    log.errorLogEntries = 0xAA
    log.warningTemperatureTime = 5
    log.criticalTemperatureTime = 6
    log.temperatureSensors = [300, 301]
    let b = log.encode()
    #expect(b.count == 512)
    #expect(b[0] == 0b10)
    #expect(b[1] == 0x36 && b[2] == 0x01)
    #expect(b[3] == 100 && b[4] == 10 && b[5] == 3)
    let counters: [(Int, UInt64)] = [
      (32, 0x11), (48, 0x22), (64, 0x33), (80, 0x44), (96, 0x55), (112, 0x66), (128, 0x77),
      (144, 0x88), (160, 0x99), (176, 0xAA),
    ]
    for (offset, value) in counters {
      #expect(le(b, offset, as: UInt64.self) == value)
      #expect(le(b, offset + 8, as: UInt64.self) == 0)  // high half of 128 bits
    }
    #expect(le(b, 192, as: UInt32.self) == 5)
    #expect(le(b, 196, as: UInt32.self) == 6)
    #expect(le(b, 200, as: UInt16.self) == 300)
    #expect(le(b, 202, as: UInt16.self) == 301)
    #expect(le(b, 204, as: UInt16.self) == 0)
  }

  @Test("Data units are thousands of 512-byte units, rounded up")
  func dataUnits() {
    #expect(SmartHealthLog.dataUnits(forBytes: 0) == 0)
    #expect(SmartHealthLog.dataUnits(forBytes: 1) == 1)
    #expect(SmartHealthLog.dataUnits(forBytes: 512) == 1)
    #expect(SmartHealthLog.dataUnits(forBytes: 512_000) == 1)
    #expect(SmartHealthLog.dataUnits(forBytes: 512_001) == 2)
    #expect(SmartHealthLog.dataUnits(for512ByteUnits: 1) == 1)
    #expect(SmartHealthLog.dataUnits(for512ByteUnits: 1000) == 1)
    #expect(SmartHealthLog.dataUnits(for512ByteUnits: 1001) == 2)
    #expect(SmartHealthLog.dataUnits(forBytes: UInt64.max) == UInt64.max / 512_000 + 1)
  }
}

@Suite("Log pages: error, firmware, changed namespaces, effects")
struct LogOtherPagesTests {
  @Test("Error entries are 64 bytes, newest first, with counts and status << 1 | phase")
  func errorLog() {
    var log = ErrorLog(capacity: 4)
    log.record(ErrorInformationEntry(submissionQueueID: 0, commandID: 0x10, status: 0x0002))
    log.record(
      ErrorInformationEntry(
        submissionQueueID: 3, commandID: 0x20, status: 0x4081, phaseTag: true,
        parameterErrorLocation: 0x0128, lba: 0xDEAD, namespaceID: 1))
    let b = log.encode()
    #expect(b.count == 256)
    #expect(le(b, 0, as: UInt64.self) == 2)
    #expect(le(b, 8, as: UInt16.self) == 3)
    #expect(le(b, 10, as: UInt16.self) == 0x20)
    let statusField: UInt16 = 0x4081 << 1 | 1
    #expect(le(b, 12, as: UInt16.self) == statusField)
    #expect(le(b, 14, as: UInt16.self) == 0x0128)
    #expect(le(b, 16, as: UInt64.self) == 0xDEAD)
    #expect(le(b, 24, as: UInt32.self) == 1)
    #expect(le(b, 64, as: UInt64.self) == 1)
    #expect(le(b, 74, as: UInt16.self) == 0x10)
    #expect(le(b, 78, as: UInt16.self) == 0xFFFF)  // location not applicable
    #expect(b[128...].allSatisfy { $0 == 0 })
  }

  @Test("Error log keeps only the newest `capacity` entries")
  func errorLogCapacity() {
    var log = ErrorLog(capacity: 2)
    for cid in UInt16(0)..<5 {
      log.record(ErrorInformationEntry(submissionQueueID: 1, commandID: cid, status: 1))
    }
    #expect(log.entries.map(\.commandID) == [4, 3])
    #expect(log.lifetimeCount == 5)
  }

  @Test("Firmware slot log: AFI and FRS1")
  func firmwareSlot() {
    let b = FirmwareSlotLog(firmwareRevision: "1.2").encode()
    #expect(b.count == 512)
    #expect(b[0] == 1)
    #expect(Array(b[8..<16]) == Array("1.2     ".utf8))
    #expect(b[16..<64].allSatisfy { $0 == 0 })
  }

  @Test("Changed namespace list: sorted, deduplicated, overflow marker after 1024")
  func changedNamespaces() {
    var list = ChangedNamespaceList()
    list.note(5)
    list.note(2)
    list.note(5)
    list.note(0)
    var b = list.encode()
    #expect(b.count == 4096)
    #expect(le(b, 0, as: UInt32.self) == 2)
    #expect(le(b, 4, as: UInt32.self) == 5)
    #expect(le(b, 8, as: UInt32.self) == 0)
    for nsid in UInt32(1)...1025 { list.note(nsid) }
    b = list.encode()
    #expect(le(b, 0, as: UInt32.self) == 0xFFFF_FFFF)
    #expect(b[4...].allSatisfy { $0 == 0 })
    list.clear()
    #expect(list.encode().allSatisfy { $0 == 0 })
  }

  @Test("Commands supported and effects: admin at 0, I/O at 1024")
  func effects() {
    typealias E = CommandEffectsLog.Effect
    let log = CommandEffectsLog(
      admin: [
        0x06: E.supported,
        0x80: E.supported | E.logicalBlockContentChange | E.namespaceCapabilityChange
          | E.namespaceInventoryChange | E.exclusiveToNamespace,
      ],
      io: [0x01: E.supported | E.logicalBlockContentChange, 0x02: E.supported])
    let b = log.encode()
    #expect(b.count == 4096)
    #expect(le(b, 0x06 * 4, as: UInt32.self) == 1)
    #expect(le(b, 0x80 * 4, as: UInt32.self) == 0x1_000F)
    #expect(le(b, 1024 + 4, as: UInt32.self) == 0b11)
    #expect(le(b, 1024 + 8, as: UInt32.self) == 1)
    #expect(le(b, 0, as: UInt32.self) == 0)
  }
}
