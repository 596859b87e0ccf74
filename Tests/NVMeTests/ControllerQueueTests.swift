import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// Create/Delete I/O queues: the success path and every refusal.
@Suite struct ControllerQueueTests {
  static let cqBase = ControllerHarness.page(200)
  static let sqBase = ControllerHarness.page(300)

  /// Create I/O CQ with explicit fields (PC and IEN set unless overridden).
  func createCQ(
    _ harness: ControllerHarness, qid: UInt32, entries: Int = 16, vector: UInt32 = 1,
    flags: UInt32 = 0b11, base: UInt64 = cqBase
  ) -> NVMeStatus? {
    harness.admin(
      .createIOCompletionQueue, prp1: base, cdw10: UInt32(entries - 1) << 16 | qid,
      cdw11: vector << 16 | flags)?.status
  }

  func createSQ(
    _ harness: ControllerHarness, qid: UInt32, cqid: UInt32, entries: Int = 16,
    flags: UInt32 = 1, base: UInt64 = sqBase
  ) -> NVMeStatus? {
    harness.admin(
      .createIOSubmissionQueue, prp1: base, cdw10: UInt32(entries - 1) << 16 | qid,
      cdw11: cqid << 16 | flags)?.status
  }

  func delete(_ harness: ControllerHarness, _ opcode: AdminOpcode, qid: UInt32) -> NVMeStatus? {
    harness.admin(opcode, cdw10: qid)?.status
  }

  @Test func createReportsInTheAdminCompletion() throws {
    let harness = try ControllerHarness()
    harness.enable()
    let cq = try #require(
      harness.admin(
        .createIOCompletionQueue, prp1: Self.cqBase, cdw10: 15 << 16 | 2, cdw11: 2 << 16 | 0b11))
    #expect(cq.status == .success)
    #expect(cq.dw0 == 0)
    #expect(cq.submissionQueueIdentifier == 0)
    #expect(cq.submissionQueueHead == 1)
    #expect(createSQ(harness, qid: 2, cqid: 2) == .success)
    #expect(harness.controller.session.activeSubmissionIDs == [0, 2])
    #expect(harness.controller.session.activeCompletionIDs == [0, 2])
    #expect(harness.interrupts == [0, 0])
  }

  @Test func completionQueueRefusals() throws {
    let harness = try ControllerHarness.ready()
    #expect(createCQ(harness, qid: 0) == .invalidQueueIdentifier)
    #expect(createCQ(harness, qid: 1) == .invalidQueueIdentifier)  // exists
    #expect(createCQ(harness, qid: 5) == .invalidQueueIdentifier)  // 4 offered
    #expect(createCQ(harness, qid: 0xFFFF) == .invalidQueueIdentifier)
    #expect(createCQ(harness, qid: 2, entries: 1) == .invalidQueueSize)  // QSIZE 0
    #expect(createCQ(harness, qid: 2, entries: 257) == .invalidQueueSize)  // > MQES + 1
    #expect(createCQ(harness, qid: 2, flags: 0b10) == .invalidField)  // PC = 0
    #expect(createCQ(harness, qid: 2, vector: 17) == .invalidInterruptVector)
    #expect(createCQ(harness, qid: 2, base: Self.cqBase + 0x800) == .prpOffsetInvalid)
    #expect(createCQ(harness, qid: 2, base: Self.cqBase + 4) == .prpOffsetInvalid)
    #expect(harness.controller.session.activeCompletionIDs == [0, 1])
    // The limits themselves are fine.
    #expect(createCQ(harness, qid: 4, entries: 256, vector: 16) == .success)
    #expect(NVMeStatus.invalidQueueSize.sct == 1 && NVMeStatus.invalidQueueSize.sc == 0x02)
    #expect(NVMeStatus.invalidInterruptVector.sc == 0x08)
  }

  @Test func submissionQueueRefusals() throws {
    let harness = try ControllerHarness.ready()
    #expect(createCQ(harness, qid: 2) == .success)
    #expect(createSQ(harness, qid: 2, cqid: 0) == .completionQueueInvalid)
    #expect(createSQ(harness, qid: 2, cqid: 3) == .completionQueueInvalid)  // no such CQ
    #expect(createSQ(harness, qid: 2, cqid: 0xFFFF) == .completionQueueInvalid)
    #expect(createSQ(harness, qid: 0, cqid: 2) == .invalidQueueIdentifier)
    #expect(createSQ(harness, qid: 1, cqid: 2) == .invalidQueueIdentifier)  // exists
    #expect(createSQ(harness, qid: 5, cqid: 2) == .invalidQueueIdentifier)
    #expect(createSQ(harness, qid: 2, cqid: 2, entries: 1) == .invalidQueueSize)
    #expect(createSQ(harness, qid: 2, cqid: 2, entries: 257) == .invalidQueueSize)
    #expect(createSQ(harness, qid: 2, cqid: 2, flags: 0) == .invalidField)
    #expect(createSQ(harness, qid: 2, cqid: 2, base: Self.sqBase + 64) == .prpOffsetInvalid)
    #expect(harness.controller.session.activeSubmissionIDs == [0, 1])
    #expect(NVMeStatus.completionQueueInvalid.sct == 1 && NVMeStatus.completionQueueInvalid.sc == 0)
    // Two SQs may share a CQ.
    #expect(createSQ(harness, qid: 2, cqid: 1) == .success)
    #expect(createSQ(harness, qid: 3, cqid: 2, base: Self.sqBase + 0x1_0000) == .success)
  }

  @Test func allocatedQueueCountBoundsTheIDs() throws {
    let harness = try ControllerHarness()
    harness.enable()
    // 2 SQs, 1 CQ.
    #expect(harness.setFeature(0x07, cdw11: 0 << 16 | 1)?.dw0 == 0x0000_0001)
    #expect(createCQ(harness, qid: 2) == .invalidQueueIdentifier)
    #expect(createCQ(harness, qid: 1) == .success)
    #expect(createSQ(harness, qid: 3, cqid: 1) == .invalidQueueIdentifier)
    #expect(createSQ(harness, qid: 2, cqid: 1) == .success)
    #expect(createSQ(harness, qid: 1, cqid: 1, base: Self.sqBase + 0x1_0000) == .success)
  }

  @Test func deletionRules() throws {
    let harness = try ControllerHarness.ready()
    let deletion = delete(harness, .deleteIOCompletionQueue, qid: 1)
    #expect(deletion == .invalidQueueDeletion)
    #expect(deletion?.sct == 1 && deletion?.sc == 0x0C)
    for qid: UInt32 in [0, 2, 4, 5, 0xFFFF] {
      #expect(delete(harness, .deleteIOSubmissionQueue, qid: qid) == .invalidQueueIdentifier)
      #expect(delete(harness, .deleteIOCompletionQueue, qid: qid) == .invalidQueueIdentifier)
    }
    #expect(delete(harness, .deleteIOSubmissionQueue, qid: 1) == .success)
    #expect(delete(harness, .deleteIOSubmissionQueue, qid: 1) == .invalidQueueIdentifier)
    #expect(delete(harness, .deleteIOCompletionQueue, qid: 1) == .success)
    #expect(delete(harness, .deleteIOCompletionQueue, qid: 1) == .invalidQueueIdentifier)
    #expect(harness.controller.session.activeSubmissionIDs == [0])
    #expect(harness.controller.session.activeCompletionIDs == [0])
  }

  @Test func thousandsOfCreateDeleteCyclesLeaveNothingBehind() throws {
    let harness = try ControllerHarness.ready()
    let data = pattern(count: 512, seed: 9)
    for cycle in 0..<4096 {
      guard harness.createIOQueuePair(2, entries: 16, vector: 2) else {
        Issue.record("create failed in cycle \(cycle)")
        return
      }
      if cycle % 512 == 0 {
        harness.memory.poke(ControllerHarness.page(20), data)
        let write = ControllerHarness.rw(
          .write, slba: UInt64(cycle / 512), blocks: 1, prp1: ControllerHarness.page(20))
        #expect(harness.io(write, queue: 2) == .success)
      }
      guard delete(harness, .deleteIOSubmissionQueue, qid: 2) == .success,
        delete(harness, .deleteIOCompletionQueue, qid: 2) == .success
      else {
        Issue.record("delete failed in cycle \(cycle)")
        return
      }
      harness.queues[2] = nil
    }
    let controller = harness.controller
    #expect(controller.session.activeSubmissionIDs == [0, 1])
    #expect(controller.session.activeCompletionIDs == [0, 1])
    #expect(
      controller.session.submissionQueues[2] == nil && controller.session.completionQueues[2] == nil
    )
    #expect(controller.session.completionQueues[1]?.submissionQueueCount == 1)
    #expect(controller.commandsInFlight == 0)
    #expect(controller.errorLog.lifetimeCount == 0)
    #expect(controller.session.events.queued.isEmpty)
    #expect(harness.stored(offset: 7 * 512, count: 512) == data)
    // Queue 1 still works.
    #expect(harness.write(data, slba: 100) == .success)
  }

  @Test func deletingASubmissionQueueFinishesItsCommandsFirst() throws {
    let harness = try ControllerHarness.ready()
    harness.recorders[0].holding = true
    harness.memory.poke(ControllerHarness.page(16), pattern(count: 512, seed: 4))
    harness.push(
      ControllerHarness.rw(.write, slba: 0, blocks: 1, prp1: ControllerHarness.page(16), cid: 77),
      queue: 1)
    harness.controller.poll()
    #expect(harness.controller.commandsInFlight == 1)
    #expect(delete(harness, .deleteIOSubmissionQueue, qid: 1) == .success)
    // The write completed on CQ 1 before its SQ went away.
    let entries = harness.drain(queue: 1)
    #expect(entries.map(\.commandIdentifier) == [77])
    #expect(entries.first?.status == .success)
    #expect(harness.controller.commandsInFlight == 0)
    #expect(harness.stored(offset: 0, count: 512) == pattern(count: 512, seed: 4))
    #expect(delete(harness, .deleteIOCompletionQueue, qid: 1) == .success)
  }

  /// Completions of a deleted SQ still waiting for room in a full CQ are
  /// dropped with it: nothing naming the queue appears after the delete's
  /// own completion.
  @Test func deletingASubmissionQueueDropsItsBackloggedCompletions() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.createIOQueuePair(2, entries: 4))
    let cids = harness.pushFailingReads(3, queue: 2) + harness.pushFailingReads(3, queue: 2)
    #expect(harness.controller.session.completionQueues[2]?.backlog.count == 3)
    #expect(delete(harness, .deleteIOSubmissionQueue, qid: 2) == .success)
    #expect(harness.controller.session.completionQueues[2]?.backlog.isEmpty == true)
    var seen: [UInt16] = []
    for _ in 0..<4 {
      while let entry = harness.popCompletion(queue: 2) { seen.append(entry.commandIdentifier) }
      harness.controller.poll()
    }
    #expect(seen == Array(cids.prefix(3)), "only what the CQ held before the delete")
    #expect(delete(harness, .deleteIOCompletionQueue, qid: 2) == .success)
  }

  @Test func resetDropsCompletionsOfInFlightCommands() throws {
    let harness = try ControllerHarness.ready()
    harness.recorders[0].holding = true
    harness.push(
      ControllerHarness.rw(.read, slba: 0, blocks: 1, prp1: ControllerHarness.page(16), cid: 5),
      queue: 1)
    harness.controller.poll()
    #expect(harness.controller.commandsInFlight == 1)
    harness.write32(RegisterOffset.cc, 0)
    #expect(harness.controller.commandsInFlight == 0)
    #expect(harness.drain(queue: 1).isEmpty)
    #expect(harness.csts == 0)
  }

  @Test func smallestQueuesHoldOneCommand() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.createIOQueuePair(2, entries: 2))
    for index in 0..<5 {
      let entry = harness.execute(
        SubmissionQueueEntry(
          opcode: NVMOpcode.flush.rawValue, commandIdentifier: 0, namespaceIdentifier: 1),
        queue: 2)
      #expect(entry?.status == .success, "command \(index)")
      #expect(entry?.submissionQueueHead == UInt16((index + 1) % 2))
    }
  }

  @Test func abortReportsNotAborted() throws {
    let harness = try ControllerHarness.ready()
    let entry = harness.admin(.abort, cdw10: 5 << 16 | 1)
    #expect(entry?.status == .success)
    #expect(entry.map { $0.dw0 & 1 } == 1)
  }

  @Test func asyncEventRequestsAreLimitedToAERLPlusOne() throws {
    let harness = try ControllerHarness.ready()
    let cids = harness.parkAERs(4)
    #expect(harness.controller.session.events.requests == cids)
    #expect(harness.drain().isEmpty)  // parked, not completed
    let fifth = harness.admin(.asynchronousEventRequest)
    #expect(fifth?.status == .asyncEventRequestLimitExceeded)
    #expect(fifth?.status.sct == 1 && fifth?.status.sc == 0x05)
    #expect(harness.controller.session.events.requests == cids)
  }

  @Test(arguments: [
    UInt8(0x03), 0x07, 0x0B, 0x0D, 0x10, 0x11, 0x15, 0x18, 0x19, 0x81, 0x84, 0xC0,
    0xFF,
  ])
  func unknownAdminOpcodeIsInvalidOpcode(opcode: UInt8) throws {
    let harness = try ControllerHarness.ready()
    let status = harness.status(SubmissionQueueEntry(opcode: opcode, commandIdentifier: 0))
    #expect(status == .invalidOpcode)
    #expect(status?.sct == 0 && status?.sc == 0x01 && status?.dnr == true)
  }

  @Test(arguments: [UInt8(1), 2, 3])
  func fusedAdminCommandsAreRefused(fuse: UInt8) throws {
    let harness = try ControllerHarness.ready()
    harness.memory.poke(ControllerHarness.dataBase, [UInt8](repeating: 0xCC, count: 4096))
    let entry = harness.admin(.identify, prp1: ControllerHarness.dataBase, cdw10: 1, flags: fuse)
    #expect(entry?.status == .invalidField)
    #expect(harness.memory.peek(ControllerHarness.dataBase, 4096).allSatisfy { $0 == 0xCC })
  }
}
