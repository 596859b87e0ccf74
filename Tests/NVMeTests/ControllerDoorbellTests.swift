import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// Queue mechanics seen from the host: wrap, phase tags, SQ head reports,
/// full completion queues, and interrupts per vector.
@Suite struct ControllerDoorbellTests {
  typealias H = ControllerHarness

  func flush(cid: UInt16 = 0) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: NVMOpcode.flush.rawValue, commandIdentifier: cid, namespaceIdentifier: 1)
  }

  @Test func completionQueueWrapFlipsThePhase() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2, entries: 8))
    var heads: [UInt16] = []
    for index in 0..<20 {
      let entry = try #require(harness.execute(flush(), queue: 2), "command \(index)")
      #expect(entry.status == .success)
      #expect(entry.submissionQueueIdentifier == 2)
      heads.append(entry.submissionQueueHead)
      if index == 7 {
        // Lap one filled every slot with phase 1.
        #expect((0..<8).allSatisfy { harness.rawCompletion(queue: 2, slot: $0)?.phase == true })
      }
      if index == 8 {
        #expect(harness.rawCompletion(queue: 2, slot: 0)?.phase == false)
        #expect(harness.rawCompletion(queue: 2, slot: 1)?.phase == true)
      }
    }
    #expect(heads == (1...20).map { UInt16($0 % 8) })
    // Lap three: back to phase 1 at slot 0.
    #expect(harness.rawCompletion(queue: 2, slot: 0)?.phase == true)
    #expect(harness.rawCompletion(queue: 2, slot: 4)?.phase == false)
  }

  @Test func adminQueueWraps() throws {
    let harness = try H()
    harness.enable(adminEntries: 4)
    var heads: [UInt16] = []
    for _ in 0..<10 {
      let entry = try #require(harness.getFeature(0x01))
      #expect(entry.status == .success && entry.dw0 == 0b111)
      heads.append(entry.submissionQueueHead)
    }
    #expect(heads == [1, 2, 3, 0, 1, 2, 3, 0, 1, 2])
  }

  @Test func fullCompletionQueueHoldsCompletionsUntilConsumed() throws {
    let harness = try H.ready()
    let cqBase = H.page(200)
    let sqBase = H.page(210)
    #expect(
      harness.admin(
        .createIOCompletionQueue, prp1: cqBase, cdw10: 3 << 16 | 2, cdw11: 2 << 16 | 0b11)?
        .status == .success)
    #expect(
      harness.admin(
        .createIOSubmissionQueue, prp1: sqBase, cdw10: 15 << 16 | 2, cdw11: 2 << 16 | 1)?
        .status == .success)
    harness.queues[2] = H.Queue(id: 2, sqBase: sqBase, cqBase: cqBase, entries: 16, cqEntries: 4)
    for cid in 1...10 { harness.push(flush(cid: UInt16(cid)), queue: 2) }
    harness.interrupts = []
    harness.controller.poll()
    // A 4-entry CQ holds 3: the 4th would make it look empty.
    #expect((0..<3).allSatisfy { harness.rawCompletion(queue: 2, slot: $0)?.phase == true })
    #expect(harness.rawCompletion(queue: 2, slot: 3)?.phase != true)
    #expect(harness.controller.session.completionQueues[2]?.backlog.count == 7)
    #expect(harness.interrupts == [2])

    var seen: [CompletionQueueEntry] = []
    for _ in 0..<20 {
      if let entry = harness.popCompletion(queue: 2) { seen.append(entry) }
      harness.controller.poll()
    }
    #expect(seen.map(\.commandIdentifier) == (1...10).map { UInt16($0) })
    #expect(seen.allSatisfy { $0.status == .success && $0.submissionQueueIdentifier == 2 })
    // All ten were fetched before the first completion: each reports head 10.
    #expect(seen.allSatisfy { $0.submissionQueueHead == 10 })
    #expect(harness.controller.session.completionQueues[2]?.backlog.isEmpty == true)
    #expect(harness.interrupts.allSatisfy { $0 == 2 } && harness.interrupts.count >= 3)
    #expect(harness.popCompletion(queue: 2) == nil)
  }

  @Test func interruptsGoToEachQueuesVector() throws {
    let harness = try H.ready()
    for qid: UInt16 in 2...4 { #expect(harness.createIOQueuePair(qid, vector: qid + 4)) }
    let vectors: [UInt16: UInt16] = [1: 1, 2: 6, 3: 7, 4: 8]
    harness.interrupts = []
    // 40 writes per queue, each queue its own LBA range and data.
    for qid: UInt16 in 1...4 {
      for index in 0..<40 {
        let lba = UInt64(qid) * 100 + UInt64(index)
        let page = 16 + Int(qid) * 50 + index
        harness.memory.poke(H.page(page), pattern(count: 512, seed: UInt8(lba & 0xFF)))
        harness.push(
          H.rw(.write, slba: lba, blocks: 1, prp1: H.page(page), cid: UInt16(index + 1)), queue: qid
        )
      }
    }
    harness.controller.poll()
    #expect(harness.interrupts.sorted() == [1, 6, 7, 8])
    for qid: UInt16 in 1...4 {
      let entries = harness.drain(queue: qid)
      #expect(entries.map(\.commandIdentifier) == (1...40).map { UInt16($0) }, "queue \(qid)")
      #expect(entries.allSatisfy { $0.status == .success && $0.submissionQueueIdentifier == qid })
      for index in 0..<40 {
        let lba = Int(qid) * 100 + index
        #expect(
          harness.stored(offset: lba * 512, count: 512)
            == pattern(count: 512, seed: UInt8(lba & 0xFF)))
      }
    }
    // A completion on one queue raises only its vector.
    harness.interrupts = []
    #expect(harness.execute(flush(), queue: 3)?.status == .success)
    #expect(harness.interrupts == [vectors[3]!])
  }

  @Test func sharedVectorRaisedOncePerTurnAndDisabledVectorNever() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2, vector: 5))
    #expect(harness.createIOQueuePair(3, vector: 5))
    // Queue 4: interrupts disabled (IEN = 0).
    let cqBase = H.page(220)
    let sqBase = H.page(230)
    #expect(
      harness.admin(
        .createIOCompletionQueue, prp1: cqBase, cdw10: 15 << 16 | 4, cdw11: 9 << 16 | 1)?
        .status == .success)
    #expect(
      harness.admin(
        .createIOSubmissionQueue, prp1: sqBase, cdw10: 15 << 16 | 4, cdw11: 4 << 16 | 1)?
        .status == .success)
    harness.queues[4] = H.Queue(id: 4, sqBase: sqBase, cqBase: cqBase, entries: 16)
    harness.interrupts = []
    for qid: UInt16 in [2, 3, 4] { harness.push(flush(cid: 7), queue: qid) }
    harness.controller.poll()
    #expect(harness.interrupts == [5])
    for qid: UInt16 in [2, 3, 4] {
      #expect(harness.drain(queue: qid).map(\.commandIdentifier) == [7], "queue \(qid)")
    }
  }

  @Test func doorbellThroughRegionWrite() throws {
    let harness = try H.ready()
    harness.memory.poke(H.page(16), pattern(count: 512, seed: 3))
    let sqe = H.rw(.write, slba: 1, blocks: 1, prp1: H.page(16), cid: 42)
    let queue = try #require(harness.queues[1])
    harness.memory.poke(queue.sqBase, sqe.encode())
    harness.queues[1]?.sqTail = 1
    #expect(harness.write32(RegisterOffset.doorbells + 8, 1))
    #expect(harness.read32(RegisterOffset.doorbells + 8) == 1)
    harness.controller.poll()
    let entry = try #require(harness.popCompletion(queue: 1))
    #expect(entry.commandIdentifier == 42 && entry.status == .success)
    #expect(harness.stored(offset: 512, count: 512) == pattern(count: 512, seed: 3))
    // One 8-byte write sets SQ 1 tail (low dword) and CQ 1 head (high dword).
    let next = H.rw(.read, slba: 1, blocks: 1, prp1: H.page(17), cid: 43)
    harness.memory.poke(queue.sqBase + 64, next.encode())
    harness.queues[1]?.sqTail = 2
    harness.write64(RegisterOffset.doorbells + 8, 1 << 32 | 2)
    harness.controller.poll()
    #expect(harness.popCompletion(queue: 1)?.commandIdentifier == 43)
    #expect(harness.memory.peek(H.page(17), 512) == pattern(count: 512, seed: 3))
  }
}
