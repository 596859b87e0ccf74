import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// Get Log Page through the controller: contents that track what the
/// controller did, and the range checks on NUMD/LPO.
@Suite struct ControllerLogPageTests {
  @Test func supportedLogPagesListsWhatIsAnswered() throws {
    let harness = try ControllerHarness.ready()
    let (status, page) = harness.getLogPage(0x00, bytes: 1024)
    #expect(status == .success)
    for lid in 0...255 {
      let expected: UInt32 = lid <= 6 ? 1 : 0
      #expect(field(page, lid * 4, as: UInt32.self) == expected, "LID \(lid)")
    }
    #expect(page[1024...].allSatisfy { $0 == 0xCC })
  }

  /// Each entry's Status Field carries in bit 0 the Phase Tag its command's
  /// completion was posted with: across CQ wraps, and for completions that
  /// waited in the backlog of a full CQ.
  @Test func errorLogEntriesCarryThePostedPhaseTag() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.createIOQueuePair(2, entries: 4))
    var posted: [UInt16: Bool] = [:]
    var submitted: [UInt16] = []
    var backlogged = 0
    for _ in 0..<3 {
      // Two batches of three failing reads before the host looks: the first
      // fills the 4-entry CQ (three slots usable), the second waits in the
      // backlog until the host consumes.
      for _ in 0..<2 { submitted += harness.pushFailingReads(3, queue: 2) }
      backlogged = max(
        backlogged, harness.controller.session.completionQueues[2]?.backlog.count ?? 0)
      for _ in 0..<8 {
        while let entry = harness.popCompletion(queue: 2) {
          posted[entry.commandIdentifier] = entry.phase
          #expect(entry.status == .lbaOutOfRange)
        }
        harness.controller.poll()
      }
    }
    #expect(backlogged == 3, "completions waited in the backlog")
    #expect(submitted.allSatisfy { posted[$0] != nil })
    #expect(Set(posted.values) == [true, false], "the CQ wrapped")

    let (status, page) = harness.getLogPage(0x01, bytes: 4096)
    #expect(status == .success)
    var checked = 0
    for index in 0..<64 where field(page, index * 64 + 8, as: UInt16.self) == 2 {
      let cid = field(page, index * 64 + 10, as: UInt16.self)
      let phase = field(page, index * 64 + 12, as: UInt16.self) & 1 == 1
      #expect(posted[cid] == phase, "cid \(cid)")
      checked += 1
    }
    #expect(checked == posted.count)
  }

  @Test func errorLogRecordsFailedCommandsNewestFirst() throws {
    let harness = try ControllerHarness.ready()
    let adminFailure = try #require(
      harness.admin(.identify, prp1: ControllerHarness.dataBase, cdw10: 0xFF))
    #expect(adminFailure.status == .invalidField)
    let ioFailure = try #require(
      harness.execute(
        ControllerHarness.rw(.read, slba: 5000, blocks: 1, prp1: ControllerHarness.page(16)),
        queue: 1))
    #expect(ioFailure.status == .lbaOutOfRange)

    let (status, page) = harness.getLogPage(0x01, bytes: 4096)
    #expect(status == .success)
    // Entry 0: the read.
    #expect(field(page, 0, as: UInt64.self) == 2)  // error count
    #expect(field(page, 8, as: UInt16.self) == 1)  // SQID
    #expect(field(page, 10, as: UInt16.self) == ioFailure.commandIdentifier)
    #expect(field(page, 12, as: UInt16.self) >> 1 == NVMeStatus.lbaOutOfRange.encoded)
    #expect(field(page, 14, as: UInt16.self) == 0xFFFF)  // parameter location n/a
    #expect(field(page, 16, as: UInt64.self) == 5000)  // LBA
    #expect(field(page, 24, as: UInt32.self) == 1)  // NSID
    // Entry 1: the identify.
    #expect(field(page, 64, as: UInt64.self) == 1)
    #expect(field(page, 72, as: UInt16.self) == 0)
    #expect(field(page, 74, as: UInt16.self) == adminFailure.commandIdentifier)
    #expect(field(page, 76, as: UInt16.self) >> 1 == NVMeStatus.invalidField.encoded)
    // Entry 2 is empty: successes are not logged.
    #expect(page[128..<4096].allSatisfy { $0 == 0 })

    let (_, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(field(smart, 176, as: UInt64.self) == 2)  // error log entries
  }

  @Test func smartCountsCommandsAndRoundsDataUnitsUp() throws {
    let harness = try ControllerHarness.ready()
    var (status, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(status == .success)
    #expect(smart[0] == 0)  // no critical warning
    #expect(field(smart, 1, as: UInt16.self) == 310)  // Kelvin
    #expect(smart[3] == 100 && smart[4] == 10)  // spare, threshold
    #expect((32..<96).allSatisfy { smart[$0] == 0 })  // counters start at zero
    #expect(field(smart, 112, as: UInt64.self) == 1)  // power cycles

    // 1000 blocks of 512 bytes are exactly one data unit; one more block is two.
    #expect(harness.write(pattern(count: 1000 * 512, seed: 1), slba: 0) == .success)
    (_, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(field(smart, 48, as: UInt64.self) == 1)
    #expect(harness.write(pattern(count: 512, seed: 2), slba: 1000) == .success)
    #expect(harness.read(slba: 0, blocks: 8).0 == .success)
    #expect(harness.read(slba: 8, blocks: 1).0 == .success)
    let compare = ControllerHarness.rw(
      .compare, slba: 1000, blocks: 1, prp1: ControllerHarness.page(16))
    #expect(harness.io(compare) == .success)

    (_, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(field(smart, 32, as: UInt64.self) == 1)  // data units read: 4608 bytes
    #expect(field(smart, 48, as: UInt64.self) == 2)  // data units written
    #expect(field(smart, 64, as: UInt64.self) == 3)  // host reads: 2 reads + compare
    #expect(field(smart, 80, as: UInt64.self) == 2)  // host writes
    #expect(field(smart, 40, as: UInt64.self) == 0)  // high halves of the 128-bit counters
    #expect(field(smart, 88, as: UInt64.self) == 0)
  }

  /// Verify reads data units but is not a host read command; Compare is
  /// both; Write Zeroes is neither a host write command nor data written.
  @Test func compareAndVerifyCountAsDataUnitsRead() throws {
    let harness = try ControllerHarness.ready()
    let verify = ControllerHarness.rw(.verify, slba: 0, blocks: 1000)
    #expect(harness.io(verify) == .success)
    var (_, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(field(smart, 32, as: UInt64.self) == 1)
    #expect(field(smart, 64, as: UInt64.self) == 0)  // host read commands
    harness.memory.poke(ControllerHarness.page(16), [UInt8](repeating: 0, count: 512))
    let compare = ControllerHarness.rw(
      .compare, slba: 0, blocks: 1, prp1: ControllerHarness.page(16))
    #expect(harness.io(compare) == .success)
    let zeroes = SubmissionQueueEntry(
      opcode: NVMOpcode.writeZeroes.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
      cdw10: 0,
      cdw12: 999)
    #expect(harness.io(zeroes) == .success)
    (_, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(field(smart, 32, as: UInt64.self) == 2)
    #expect(field(smart, 48, as: UInt64.self) == 0)  // nothing written
    #expect(field(smart, 64, as: UInt64.self) == 1)  // the Compare
    #expect(field(smart, 80, as: UInt64.self) == 0)  // host write commands
  }

  /// Controller Busy Time: minutes with an I/O command outstanding, the
  /// current stretch included; idle time does not count.
  @Test func smartBusyTimeCountsMinutesWithIOOutstanding() throws {
    let harness = try ControllerHarness.ready()
    func busyMinutes() -> UInt64 {
      field(harness.getLogPage(0x02, bytes: 512).1, 96, as: UInt64.self)
    }
    #expect(busyMinutes() == 0)
    harness.recorders[0].holding = true
    harness.push(
      ControllerHarness.rw(.read, slba: 0, blocks: 1, prp1: ControllerHarness.page(16), cid: 5),
      queue: 1)
    harness.controller.poll()
    harness.now += 150_000
    #expect(busyMinutes() == 2, "2.5 minutes so far, the read still outstanding")
    harness.recorders[0].holding = false
    harness.controller.poll()
    #expect(harness.popCompletion(queue: 1)?.commandIdentifier == 5)
    harness.now += 10 * 60_000
    harness.controller.poll()
    #expect(busyMinutes() == 2, "idle minutes do not count")
    harness.recorders[0].holding = true
    harness.push(
      ControllerHarness.rw(.read, slba: 0, blocks: 1, prp1: ControllerHarness.page(16), cid: 6),
      queue: 1)
    harness.controller.poll()
    harness.now += 40_000
    harness.recorders[0].holding = false
    harness.controller.poll()
    #expect(busyMinutes() == 3, "2.5 + 0.67 minutes")
  }

  @Test func smartPowerOnHoursFollowTheClock() throws {
    let harness = try ControllerHarness.ready()
    harness.now += 3 * 3_600_000 + 5
    let (status, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(status == .success)
    #expect(field(smart, 128, as: UInt64.self) == 3)
  }

  @Test(arguments: [UInt32(1), 2, 0xFFFF_FFFE])
  func smartIsControllerWide(nsid: UInt32) throws {
    let harness = try ControllerHarness.ready()
    let (status, page) = harness.getLogPage(0x02, bytes: 512, nsid: nsid)
    #expect(status == .invalidField)
    #expect(page.allSatisfy { $0 == 0xCC })
    #expect(harness.getLogPage(0x02, bytes: 512, nsid: 0xFFFF_FFFF).0 == .success)
  }

  @Test func firmwareSlotShowsTheActiveRevision() throws {
    let harness = try ControllerHarness.ready()
    let (status, page) = harness.getLogPage(0x03, bytes: 512)
    #expect(status == .success)
    #expect(page[0] == 1)  // AFI: slot 1 active
    #expect(Array(page[8..<16]) == Array("1.0     ".utf8))
    #expect(page[16..<512].allSatisfy { $0 == 0 })
    #expect(page[512...].allSatisfy { $0 == 0xCC })
  }

  @Test func changedNamespaceListFillsOnFormatAndClearsWhenRead() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [1 << 20, 1 << 20])
    var (status, page) = harness.getLogPage(0x04, bytes: 4096)
    #expect(status == .success)
    #expect(page[0..<4096].allSatisfy { $0 == 0 })
    #expect(harness.admin(.formatNVM, nsid: 2)?.status == .success)
    // RAE keeps the list for the next reader.
    (status, page) = harness.getLogPage(0x04, bytes: 4096, rae: true)
    #expect(field(page, 0, as: UInt32.self) == 2)
    #expect(field(page, 4, as: UInt32.self) == 0)
    (status, page) = harness.getLogPage(0x04, bytes: 4096)
    #expect(field(page, 0, as: UInt32.self) == 2)
    (status, page) = harness.getLogPage(0x04, bytes: 4096)
    #expect(status == .success)
    #expect(page[0..<4096].allSatisfy { $0 == 0 })
  }

  @Test func commandEffectsDescribeEachSupportedCommand() throws {
    let harness = try ControllerHarness.ready()
    let (status, page) = harness.getLogPage(0x05, bytes: 4096)
    #expect(status == .success)
    let admin = { (opcode: UInt8) in field(page, Int(opcode) * 4, as: UInt32.self) }
    let io = { (opcode: UInt8) in field(page, 1024 + Int(opcode) * 4, as: UInt32.self) }
    for opcode: UInt8 in [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x0C, 0x14] {
      #expect(admin(opcode) == 1, "admin \(opcode)")
    }
    // Format NVM: LBCC, NCC, NIC, and exclusive per namespace.
    #expect(admin(0x80) == 0x0001_000F)
    for opcode: UInt8 in [0x10, 0x11, 0x18, 0x84] { #expect(admin(opcode) == 0) }
    for opcode: UInt8 in [0x00, 0x02, 0x05, 0x0C] { #expect(io(opcode) == 1, "io \(opcode)") }
    for opcode: UInt8 in [0x01, 0x08, 0x09, 0x19] { #expect(io(opcode) == 0b11, "io \(opcode)") }
    for opcode: UInt8 in [0x04, 0x0D] { #expect(io(opcode) == 0) }
    #expect(page[2048..<4096].allSatisfy { $0 == 0 })
  }

  @Test(arguments: [UInt8(0x07), 0x08, 0x09, 0x0D, 0x70, 0x81, 0xC0, 0xFF])
  func unknownLogPageIsRefused(lid: UInt8) throws {
    let harness = try ControllerHarness.ready()
    let (status, page) = harness.getLogPage(lid, bytes: 512)
    #expect(status == .invalidLogPage)
    #expect(status?.sct == 1 && status?.sc == 0x09)
    #expect(page.allSatisfy { $0 == 0xCC })
  }

  @Test func offsetMustBeDwordAlignedAndInsideThePage() throws {
    let harness = try ControllerHarness.ready()
    for offset: UInt64 in [1, 2, 3, 510] {
      #expect(harness.getLogPage(0x02, bytes: 4, offset: offset).0 == .invalidField, "\(offset)")
    }
    for offset: UInt64 in [512, 4096, 1 << 32] {
      #expect(harness.getLogPage(0x02, bytes: 4, offset: offset).0 == .invalidField, "\(offset)")
    }
    // The last dword of the page is fine.
    let (status, page) = harness.getLogPage(0x03, bytes: 4, offset: 8)
    #expect(status == .success)
    #expect(Array(page[0..<4]) == Array("1.0 ".utf8))
    #expect(page[4...].allSatisfy { $0 == 0xCC })
    // Offset type "index" is not supported by any page here.
    #expect(harness.getLogPage(0x01, bytes: 64, cdw14: 1 << 23).0 == .invalidField)
  }

  @Test func partialReadsTransferOnlyWhatWasAsked() throws {
    let harness = try ControllerHarness.ready()
    var (status, page) = harness.getLogPage(0x03, bytes: 8)
    #expect(status == .success)
    #expect(Array(page[0..<8]) == [1, 0, 0, 0, 0, 0, 0, 0])
    #expect(page[8...].allSatisfy { $0 == 0xCC })
    // Past the end of a page: only the page is transferred.
    (status, page) = harness.getLogPage(0x03, bytes: 8192)
    #expect(status == .success)
    #expect(page[16..<512].allSatisfy { $0 == 0 })
    #expect(page[512...].allSatisfy { $0 == 0xCC })
    // A window in the middle: SMART temperature and spare (bytes 0-3 from 0).
    (status, page) = harness.getLogPage(0x02, bytes: 4, offset: 0)
    #expect(Array(page[0..<4]) == [0, 0x36, 0x01, 100])
    #expect(page[4...].allSatisfy { $0 == 0xCC })
  }

  @Test func logPageIntoUnmappedMemoryIsDataTransferError() throws {
    let harness = try ControllerHarness.ready()
    let entry = harness.admin(.getLogPage, prp1: 0x9000_0000, cdw10: 0x02 | 127 << 16)
    #expect(entry?.status == .dataTransferError)
  }
}
