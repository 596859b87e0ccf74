import BackendContract
import Glibc
import TestSupport
import Testing

@testable import NVMe

/// Device Self-test (admin 14h) and its log (LID 06h): the test really reads
/// the namespaces in the background, one chunk at a time, and the log shows
/// its progress and result.
@Suite struct ControllerSelfTestTests {
  static let chunk = UInt64(SelfTestRun.chunkBytes)

  func start(_ harness: ControllerHarness, code: UInt32, nsid: UInt32 = 1) -> NVMeStatus? {
    harness.admin(.deviceSelfTest, nsid: nsid, cdw10: code)?.status
  }

  func log(_ harness: ControllerHarness) throws -> [UInt8] {
    let (status, page) = harness.getLogPage(0x06, bytes: DeviceSelfTestLog.size)
    #expect(status == .success)
    return Array(page[0..<DeviceSelfTestLog.size])
  }

  /// Self-test reads the harness's backend saw (guest reads go to page 64).
  func selfTestReads(_ harness: ControllerHarness, ns: Int = 0) -> [TestBackend.Record] {
    harness.recorders[ns].records.filter { $0.operation == .read && $0.length == Self.chunk }
  }

  /// Polls until no test runs (bounded), checking that at most one
  /// self-test read is ever with the backend.
  func runToEnd(_ harness: ControllerHarness) {
    for _ in 0..<1000 where harness.controller.selfTest != nil {
      harness.controller.poll()
      #expect(harness.recorders.allSatisfy { $0.inFlight <= 1 })
    }
  }

  @Test func identifyEffectsAndSupportedLogsAdvertiseIt() throws {
    let harness = try ControllerHarness.ready()
    let (status, id) = harness.identify(cns: 1)
    #expect(status == .success)
    #expect(field(id, 256, as: UInt16.self) & ControllerIdentity.OACS.deviceSelfTest != 0)
    #expect(field(id, 316, as: UInt16.self) >= 1, "EDSTT")
    #expect(id[318] & 1 == 1, "DSTO: one operation at a time")
    let (_, lids) = harness.getLogPage(0x00, bytes: 1024)
    #expect(field(lids, 6 * 4, as: UInt32.self) == 1)
    let (_, effects) = harness.getLogPage(0x05, bytes: 4096)
    #expect(field(effects, 0x14 * 4, as: UInt32.self) & 1 == 1)
  }

  @Test func extendedTestReadsTheWholeNamespaceAndLogsSuccess() throws {
    let harness = try ControllerHarness.ready()
    #expect(try log(harness)[4] == 0x0F, "no result before any test")
    #expect(start(harness, code: 2) == .success)
    let running = try log(harness)
    #expect(running[0] == 2, "extended test in progress")
    #expect(running[1] > 0 && running[1] < 100, "progress \(running[1])")
    runToEnd(harness)
    let done = try log(harness)
    #expect(done[0] == 0 && done[1] == 0)
    #expect(done[4] == 0x20, "extended, completed without error")
    #expect(done[6] == 0, "no diagnostic fields valid")
    #expect((1..<20).allSatisfy { done[4 + $0 * 28] == 0x0F })
    let offsets = selfTestReads(harness).map(\.offset)
    #expect(offsets == stride(from: 0, to: 1 << 20, by: Int(Self.chunk)).map { UInt64($0) })
  }

  @Test func guestIOIsServedWhileATestRuns() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [4 << 20])
    #expect(harness.write([UInt8](repeating: 0x5A, count: 512), slba: 3) == .success)
    #expect(start(harness, code: 2) == .success)
    // Each read completes within the usual polls, between self-test chunks.
    for _ in 0..<4 {
      let (status, data) = harness.read(slba: 3, blocks: 1)
      #expect(status == .success)
      #expect(data == [UInt8](repeating: 0x5A, count: 512))
    }
    #expect(harness.controller.selfTest != nil, "still running: 32 chunks")
    runToEnd(harness)
    #expect(try log(harness)[4] == 0x20)
  }

  @Test func oneAtATimeAndAbort() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [4 << 20])
    #expect(start(harness, code: 0xF) == .success, "abort with nothing running")
    #expect(try log(harness)[4] == 0x0F, "and nothing logged")
    #expect(start(harness, code: 1) == .success)
    #expect(start(harness, code: 2) == .deviceSelfTestInProgress)
    #expect(start(harness, code: 0xF) == .success)
    let page = try log(harness)
    #expect(page[0] == 0)
    #expect(page[4] == 0x11, "short, aborted by Device Self-test command")
    let readsAtAbort = selfTestReads(harness).count
    for _ in 0..<8 { harness.controller.poll() }
    #expect(selfTestReads(harness).count == readsAtAbort, "no reads after the abort")
    #expect(start(harness, code: 1) == .success, "a new test may start")
    runToEnd(harness)
    #expect(try log(harness)[4] == 0x10)
    #expect(try log(harness)[4 + 28] == 0x11, "older result second")
  }

  @Test func badCodesAndNamespacesAreRefused() throws {
    let harness = try ControllerHarness.ready()
    for code: UInt32 in [0x0, 0x3, 0xE] {
      #expect(start(harness, code: code) == .invalidField, "STC \(code)")
    }
    #expect(start(harness, code: 1, nsid: 7) == .invalidNamespaceOrFormat)
    #expect(harness.controller.selfTest == nil)
    // NSID 0: the controller only, nothing to read; FFFFFFFFh: every namespace.
    #expect(start(harness, code: 1, nsid: 0) == .success)
    runToEnd(harness)
    #expect(selfTestReads(harness).isEmpty)
    #expect(start(harness, code: 1, nsid: 0xFFFF_FFFF) == .success)
    runToEnd(harness)
    #expect(selfTestReads(harness).count == 8)
    #expect(try log(harness)[4] == 0x10 && log(harness)[4 + 28] == 0x10)
  }

  @Test func aMediaErrorFailsTheMediaCheckSegment() throws {
    let harness = try ControllerHarness.ready()
    harness.recorders[0].injectedErrno = EIO
    #expect(start(harness, code: 2) == .success)
    runToEnd(harness)
    let page = try log(harness)
    #expect(page[4] == 0x27, "extended, failed segment known")
    #expect(page[5] == 7, "segment 7: media check")
    #expect(page[6] == 0x0F, "NSID, LBA, SCT and SC valid")
    #expect(field(page, 4 + 12, as: UInt32.self) == 1)
    #expect(field(page, 4 + 16, as: UInt64.self) == 0)
    #expect(page[4 + 24] == NVMeStatus.unrecoveredReadError.sct)
    #expect(page[4 + 25] == NVMeStatus.unrecoveredReadError.sc)
  }

  @Test func aResetAbortsAShortTestButNotAnExtendedOne() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [4 << 20])
    #expect(start(harness, code: 1) == .success)
    harness.write32(RegisterOffset.cc, 0)
    #expect(harness.controller.selfTest == nil)
    harness.queues = [:]
    harness.enable()
    harness.controller.poll()
    #expect(try log(harness)[4] == 0x12, "short, aborted by a Controller Level Reset")

    #expect(start(harness, code: 2) == .success)
    harness.write32(RegisterOffset.cc, 0)
    #expect(harness.controller.selfTest != nil, "extended goes on across the reset")
    harness.queues = [:]
    harness.enable()
    runToEnd(harness)
    #expect(try log(harness)[4] == 0x20)
    #expect(selfTestReads(harness).map(\.offset).suffix(32) == (0..<32).map { $0 * Self.chunk })
  }

  @Test func formatAbortsATestOfItsNamespace() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [4 << 20])
    #expect(start(harness, code: 2) == .success)
    #expect(harness.admin(.formatNVM, nsid: 1, cdw10: 0)?.status == .success)
    #expect(try log(harness)[4] == 0x24, "extended, aborted by Format NVM")
  }

  @Test func logRangeAndParametersAreChecked() throws {
    let harness = try ControllerHarness.ready()
    #expect(start(harness, code: 1) == .success)
    runToEnd(harness)
    let (tail, page) = harness.getLogPage(0x06, bytes: 8, offset: 4)
    #expect(tail == .success)
    #expect(page[0] == 0x10, "offset 4 starts at the first result")
    #expect(harness.getLogPage(0x06, bytes: 4, offset: 564).0 == .invalidField, "past the end")
    #expect(harness.getLogPage(0x06, bytes: 4, offset: 2).0 == .invalidField, "unaligned")
    let lsp = harness.admin(
      .getLogPage, prp1: ControllerHarness.dataBase, cdw10: 0x06 | 1 << 8 | 140 << 16)
    #expect(lsp?.status == .invalidField, "no LSP is defined for LID 06h")
    let lsi = harness.admin(
      .getLogPage, prp1: ControllerHarness.dataBase, cdw10: 0x06 | 140 << 16, cdw11: 1 << 16)
    #expect(lsi?.status == .invalidField, "nor an LSI")
    // No event is tied to this log, so RAE changes nothing.
    let (retained, again) = harness.getLogPage(0x06, bytes: 564, rae: true)
    #expect(retained == .success && again[4] == 0x10)
    let (whole, full) = harness.getLogPage(0x06, bytes: 1024)
    #expect(whole == .success)
    #expect(full[564..<1024].allSatisfy { $0 == 0xCC }, "no more than the log is written")
  }
}
