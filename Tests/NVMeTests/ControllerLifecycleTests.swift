import Testing

@testable import NVMe

@Suite struct ControllerLifecycleTests {
  @Test func capabilitiesAndVersionDescribeTheModel() throws {
    let harness = try ControllerHarness()
    let cap = harness.read64(RegisterOffset.cap)
    #expect(cap & 0xFFFF == 255)  // MQES: 256 entries, 0-based
    #expect(cap >> 16 & 1 == 1)  // CQR
    #expect(cap >> 32 & 0xF == 0)  // DSTRD
    #expect(cap >> 37 & 1 == 1)  // CSS: NVM
    #expect(cap >> 48 & 0xF == 0)  // MPSMIN 4 KiB
    #expect(harness.read32(RegisterOffset.vs) == 0x0002_0000)
    // Two 32-bit halves read the same as one 64-bit read.
    let low = UInt64(harness.read32(RegisterOffset.cap))
    let high = UInt64(harness.read32(RegisterOffset.cap + 4))
    #expect(high << 32 | low == cap)
  }

  @Test func enableSetsReadyAndDisableClearsIt() throws {
    let harness = try ControllerHarness()
    #expect(harness.csts == 0)
    harness.enable()
    #expect(harness.csts == 1)
    harness.write32(RegisterOffset.cc, ControllerHarness.enableCC & ~1)
    #expect(harness.csts == 0)
  }

  @Test func invalidConfigurationSetsFatalStatus() throws {
    let harness = try ControllerHarness()
    // MPS 2^(12+8) is beyond MPSMAX.
    harness.enable(cc: ControllerHarness.enableCC | 8 << 7)
    #expect(harness.csts & 0b11 == 0b10)
    // A reset clears CFS; a good configuration then comes up.
    harness.write32(RegisterOffset.cc, 0)
    harness.enable()
    #expect(harness.csts == 1)
  }

  /// IOSQES/IOCQES other than the sizes Identify reports (SQES 6, CQES 4):
  /// CFS at enable, as Linux's target and QEMU's NVMe model do.
  @Test(
    arguments: [
      (0, 0), (6, 0), (0, 4), (7, 4), (6, 5), (4, 6),
    ] as [(UInt32, UInt32)])
  func wrongEntrySizesSetFatalStatus(iosqes: UInt32, iocqes: UInt32) throws {
    let harness = try ControllerHarness()
    harness.enable(cc: 1 | iosqes << 16 | iocqes << 20)
    #expect(harness.csts & 0b11 == 0b10)
    harness.write32(RegisterOffset.cc, 0)
    harness.enable()
    #expect(harness.csts == 1)
  }

  @Test func adminQueueOfOneEntryIsRefused() throws {
    let harness = try ControllerHarness()
    harness.enable(adminEntries: 1)
    #expect(harness.csts & 0b10 != 0)
  }

  /// CC.SHN: SHST reads "in progress" until the next turn has finished the
  /// I/O and flushed (the CC write is a client request; the work is not done
  /// inside it), then "complete".
  @Test func shutdownReportsCompleteAfterFlushing() throws {
    let harness = try ControllerHarness.ready()
    let flushesBefore = harness.recorders[0].operations(.flush).count
    harness.write32(RegisterOffset.cc, ControllerHarness.enableCC | 1 << 14)
    #expect(harness.csts >> 2 & 0b11 == 0b01)
    #expect(harness.recorders[0].operations(.flush).count == flushesBefore)
    harness.controller.poll()
    #expect(harness.csts >> 2 & 0b11 == 0b10)
    #expect(harness.recorders[0].operations(.flush).count == flushesBefore + 1)
  }

  /// A host that disables after a shutdown still reads it complete until it
  /// enables again; a reset before the shutdown's turn ends it (00b), and the
  /// turn after finds nothing left to shut down.
  @Test func shutdownStatusAcrossAReset() throws {
    let finished = try ControllerHarness.ready()
    finished.write32(RegisterOffset.cc, ControllerHarness.enableCC | 1 << 14)
    finished.controller.poll()
    finished.write32(RegisterOffset.cc, 0)
    #expect(finished.csts == 0b10 << 2)
    finished.enable()
    #expect(finished.csts == 1)

    let interrupted = try ControllerHarness.ready()
    let flushesBefore = interrupted.recorders[0].operations(.flush).count
    interrupted.write32(RegisterOffset.cc, ControllerHarness.enableCC | 1 << 14)
    interrupted.write32(RegisterOffset.cc, 0)
    #expect(interrupted.csts == 0)
    interrupted.controller.poll()
    #expect(interrupted.csts == 0)
    #expect(interrupted.recorders[0].operations(.flush).count == flushesBefore)
  }

  @Test func resetDropsIOQueuesAndParkedEvents() throws {
    let harness = try ControllerHarness.ready()
    harness.push(
      SubmissionQueueEntry(
        opcode: AdminOpcode.asynchronousEventRequest.rawValue, commandIdentifier: 77))
    harness.controller.poll()
    #expect(harness.controller.session.events.requests == [77])
    harness.write32(RegisterOffset.cc, 0)
    #expect(harness.controller.session.events.requests.isEmpty)
    #expect(harness.controller.session.activeSubmissionIDs.isEmpty)
    // Enabled again, queue 1 no longer exists: Delete SQ 1 is refused.
    harness.queues = [:]
    harness.enable()
    let status = harness.status(
      SubmissionQueueEntry(
        opcode: AdminOpcode.deleteIOSubmissionQueue.rawValue, commandIdentifier: 0, cdw10: 1))
    #expect(status == .invalidQueueIdentifier)
  }

  @Test func misshapenRegisterWritesAreRejected() throws {
    let harness = try ControllerHarness()
    let twoBytes: [UInt8] = [1, 0]
    let accepted = twoBytes.withUnsafeBytes {
      harness.controller.writeRegisters(offset: RegisterOffset.cc, from: $0)
    }
    #expect(!accepted)
    #expect(!harness.write32(RegisterOffset.cc + 1, 1))
    #expect(harness.read32(RegisterOffset.cc) == 0)
  }

  @Test func identifyControllerOverTheAdminQueue() throws {
    let harness = try ControllerHarness()
    harness.enable()
    let (status, page) = harness.identify(cns: 1)
    #expect(status == .success)
    #expect(String(decoding: page[4..<24], as: UTF8.self).hasPrefix("NVMEVFU0001"))
    #expect(page[77] == 7)  // MDTS
    #expect(page[512] == 0x66 && page[513] == 0x44)  // SQES, CQES
    #expect(harness.interrupts == [0])
  }
}
