import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// A guest that lies: bad doorbells, bad pointers, SQEs rewritten behind
/// the controller's back, queues outside memory. The controller answers with
/// statuses, error events or CSTS.CFS, and keeps serving.
@Suite struct ControllerHostileInputTests {
  typealias H = ControllerHarness

  static let invalidDoorbellValue: UInt32 = 0x0001_0100  // error, info 1, log 01h
  static let invalidDoorbellRegister: UInt32 = 0x0001_0000  // error, info 0, log 01h

  func flush(cid: UInt16 = 0) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: NVMOpcode.flush.rawValue, commandIdentifier: cid, namespaceIdentifier: 1)
  }

  @Test(arguments: [UInt32(64), 65, 0xFFFF, 0xFFFF_FFFF])
  func submissionTailPastTheQueue(tail: UInt32) throws {
    let harness = try H.ready()
    let aer = harness.parkAERs(1)
    harness.push(flush(cid: 9), queue: 1)
    harness.ringDoorbell(2, tail)
    harness.controller.poll()
    #expect(harness.recorders[0].records.isEmpty)
    #expect(harness.drain(queue: 1).isEmpty)
    let events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == aer)
    #expect(events.first?.dw0 == Self.invalidDoorbellValue)
    #expect(harness.read32(RegisterOffset.doorbells + 8) == 0)  // last good value put back
    // The host corrects itself; the queued command runs.
    harness.ringDoorbell(2, 1)
    harness.controller.poll()
    #expect(harness.drain(queue: 1).map(\.commandIdentifier) == [9])
    #expect(harness.recorders[0].operations(.flush).count == 1)
    #expect(harness.controller.isReady)
  }

  @Test func completionHeadBeyondWhatWasPosted() throws {
    let harness = try H.ready()
    let aers = harness.parkAERs(2)
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
    harness.controller.poll()  // sees the host's head of 1
    harness.ringDoorbell(3, 5)
    harness.controller.poll()
    var events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == [aers[0]])
    #expect(events.first?.dw0 == Self.invalidDoorbellValue)
    #expect(harness.read32(RegisterOffset.doorbells + 12) == 1)
    #expect(harness.controller.session.completionQueues[1]?.head == 1)
    // Error events stay masked until the error log is read.
    harness.ringDoorbell(3, 64)
    harness.controller.poll()
    #expect(harness.takeEvents().isEmpty)
    #expect(harness.getLogPage(0x01, bytes: 64).0 == .success)
    events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == [aers[1]])
    #expect(events.first?.dw0 == Self.invalidDoorbellValue)
    // Still serving.
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
  }

  @Test func completionHeadMovingBackwards() throws {
    let harness = try H.ready()
    let aer = harness.parkAERs(1)
    for _ in 0..<3 { #expect(harness.execute(flush(), queue: 1)?.status == .success) }
    harness.controller.poll()  // sees the host's head of 3
    harness.ringDoorbell(3, 1)
    harness.controller.poll()
    let events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == aer)
    #expect(events.first?.dw0 == Self.invalidDoorbellValue)
    #expect(harness.controller.session.completionQueues[1]?.head == 3)
  }

  @Test func doorbellOfAQueueThatDoesNotExist() throws {
    let harness = try H.ready()
    let aers = harness.parkAERs(2)
    #expect(harness.write32(RegisterOffset.doorbells + 3 * 8, 1))  // SQ 3 tail
    let events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == [aers[0]])
    #expect(events.first?.dw0 == Self.invalidDoorbellRegister)
    #expect(harness.read32(RegisterOffset.doorbells + 3 * 8) == 0)
    #expect(harness.getLogPage(0x01, bytes: 64).0 == .success)
    #expect(harness.write32(RegisterOffset.doorbells + 3 * 8 + 4, 1))  // CQ 3 head
    #expect(harness.takeEvents().map(\.dw0) == [Self.invalidDoorbellRegister])
    // Beyond the doorbell page: ignored.
    #expect(harness.write32(RegisterOffset.doorbells + 4096, 1))
    #expect(harness.controller.session.events.queued.isEmpty)
    #expect(harness.controller.isReady)
  }

  @Test func eventWaitsForARequest() throws {
    let harness = try H.ready()
    // No request parked: the event is kept, and the next request takes it.
    harness.ringDoorbell(2, 200)
    harness.controller.poll()
    #expect(harness.drain().isEmpty)
    #expect(harness.controller.session.events.queued == [.invalidDoorbellValue])
    let cids = harness.parkAERs(2)
    let events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == [cids[0]])
    #expect(events.first?.dw0 == Self.invalidDoorbellValue)
    #expect(harness.controller.session.events.requests == [cids[1]])
    #expect(harness.interrupts.last == 0)
  }

  @Test func prpListOutsideGuestMemory() throws {
    let harness = try H.ready()
    // The list itself is unmapped.
    let lost = H.rw(.write, slba: 0, blocks: 24, prp1: H.page(16), prp2: 0x9000_0000)
    #expect(harness.io(lost) == .dataTransferError)
    // The list is fine but points outside, for a write and for a read.
    harness.memory.pokeEntries(H.page(H.listArea), [H.page(17), 0x9000_0000])
    let write = H.rw(.write, slba: 0, blocks: 24, prp1: H.page(16), prp2: H.page(H.listArea))
    #expect(harness.io(write) == .dataTransferError)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
    let read = H.rw(.read, slba: 0, blocks: 24, prp1: H.page(16), prp2: H.page(H.listArea))
    #expect(harness.io(read) == .dataTransferError)
    // A list that straddles the end of guest RAM.
    let end = H.ramBase + UInt64(H.ramSize) - 8
    let straddle = H.rw(.write, slba: 0, blocks: 24, prp1: H.page(16), prp2: end)
    #expect(harness.io(straddle) == .dataTransferError)
    #expect(harness.controller.commandsInFlight == 0)
    #expect(harness.read(slba: 0, blocks: 1).0 == .success)
  }

  @Test func prpListThatChainsIntoItself() throws {
    let harness = try H.ready()
    // PRP2 is the last slot of a page, and that slot points to itself:
    // a chain that never yields a data entry.
    let slot = H.page(H.listArea) + 4096 - 8
    harness.memory.pokeEntries(slot, [slot])
    let looping = H.rw(.read, slba: 0, blocks: 32, prp1: H.page(16), prp2: slot)
    #expect(harness.io(looping) == .prpOffsetInvalid)
    // Two pointer-only slots pointing at each other.
    let other = H.page(H.listArea + 2) + 4096 - 8
    harness.memory.pokeEntries(slot, [other])
    harness.memory.pokeEntries(other, [slot])
    #expect(harness.io(looping) == .prpOffsetInvalid)
    #expect(harness.controller.isReady)
  }

  @Test func sqeIsReadOnceAndLaterChangesAreIgnored() throws {
    let harness = try H.ready(translation: false)
    var before = harness.memory.reads
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
    #expect(harness.memory.reads - before == 1)
    // Rewrite the consumed slot as a write to LBA 5 and poll: nothing runs.
    let queue = try #require(harness.queues[1])
    harness.memory.poke(H.page(16), pattern(count: 512, seed: 1))
    harness.memory.poke(queue.sqBase, H.rw(.write, slba: 5, blocks: 1, prp1: H.page(16)).encode())
    before = harness.memory.reads
    for _ in 0..<4 { harness.controller.poll() }
    #expect(harness.memory.reads == before)
    #expect(harness.drain(queue: 1).isEmpty)
    #expect(harness.recorders[0].operations(.write).isEmpty)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
  }

  @Test func sqeRewrittenWhileInFlightKeepsTheFetchedCommand() throws {
    let harness = try H.ready()
    // The write is with the backend (completion held) when the guest
    // scribbles over its SQE; the completion still carries what was fetched.
    harness.recorders[0].holding = true
    harness.memory.poke(H.page(16), pattern(count: 512, seed: 2))
    harness.push(H.rw(.write, slba: 2, blocks: 1, prp1: H.page(16), cid: 21), queue: 1)
    harness.controller.poll()
    #expect(harness.controller.commandsInFlight == 1)
    #expect(harness.drain(queue: 1).isEmpty)
    let queue = try #require(harness.queues[1])
    harness.memory.poke(queue.sqBase, [UInt8](repeating: 0xFF, count: 64))
    harness.controller.poll()
    #expect(harness.drain(queue: 1).isEmpty)
    harness.recorders[0].holding = false
    harness.controller.poll()
    let entries = harness.drain(queue: 1)
    #expect(entries.map(\.commandIdentifier) == [21])
    #expect(entries.first?.status == .success)
    #expect(harness.stored(offset: 1024, count: 512) == pattern(count: 512, seed: 2))
  }

  @Test func adminSubmissionQueueOutsideMemorySetsFatalStatus() throws {
    let harness = try H()
    harness.write32(RegisterOffset.aqa, 31 << 16 | 31)
    harness.write64(RegisterOffset.asq, 0x9000_0000)
    harness.write64(RegisterOffset.acq, H.adminCQ)
    harness.write32(RegisterOffset.cc, H.enableCC)
    #expect(harness.csts & 0b11 == 0b01)  // ready until it is used
    harness.ringDoorbell(0, 1)
    harness.controller.poll()
    #expect(harness.csts & 0b10 == 0b10)
    #expect(harness.controller.isFatal)
    // Fatal: nothing more is fetched, and a reset recovers.
    harness.controller.poll()
    harness.write32(RegisterOffset.cc, 0)
    #expect(harness.csts & 0b11 == 0)
    harness.enable()
    #expect(harness.getFeature(0x01)?.dw0 == 0b111)
  }

  @Test func adminCompletionQueueOutsideMemorySetsFatalStatus() throws {
    let harness = try H()
    harness.write32(RegisterOffset.aqa, 31 << 16 | 31)
    harness.write64(RegisterOffset.asq, H.adminSQ)
    harness.write64(RegisterOffset.acq, 0x9000_0000)
    harness.write32(RegisterOffset.cc, H.enableCC)
    harness.queues[0] = H.Queue(id: 0, sqBase: H.adminSQ, cqBase: H.adminCQ, entries: 32)
    harness.push(SubmissionQueueEntry(opcode: AdminOpcode.abort.rawValue, commandIdentifier: 1))
    harness.controller.poll()
    #expect(harness.controller.isFatal)
    #expect(harness.interrupts.isEmpty)
  }

  @Test func randomIOCommandsEachCompleteOnce() throws {
    let harness = try H.ready(namespaceSizes: [1 << 20, 1 << 20])
    var rng = SplitMix64(seed: 0x5EED)
    for round in 0..<40 {
      var cids: [UInt16] = []
      for index in 0..<8 {
        let cid = UInt16(round * 8 + index + 1)
        var sqe = SubmissionQueueEntry(
          opcode: UInt8(truncatingIfNeeded: rng.next() % 0x20), flags: 0, commandIdentifier: cid)
        sqe.flags = UInt8(truncatingIfNeeded: rng.next()) & 0b1100_0011
        sqe.namespaceIdentifier = [0, 1, 2, 3, 0xFFFF_FFFF][Int(rng.next() % 5)]
        sqe.prp1 = rng.next() % 2 == 0 ? H.page(100 + Int(rng.next() % 50)) : rng.next() | 1 << 40
        sqe.prp2 = rng.next() % 2 == 0 ? H.page(160 + Int(rng.next() % 50)) : rng.next()
        sqe.cdw10 = UInt32(truncatingIfNeeded: rng.next() % 4096)
        sqe.cdw11 = UInt32(truncatingIfNeeded: rng.next() % 4 == 0 ? rng.next() : 0)
        sqe.cdw12 = UInt32(truncatingIfNeeded: rng.next()) & 0xC000_00FF
        sqe.cdw13 = UInt32(truncatingIfNeeded: rng.next())
        harness.push(sqe, queue: 1)
        cids.append(cid)
      }
      harness.controller.poll()
      let entries = harness.drain(queue: 1)
      // Refusals complete at once, backend work at the end of the turn.
      #expect(entries.map(\.commandIdentifier).sorted() == cids, "round \(round)")
      #expect(entries.allSatisfy { $0.submissionQueueIdentifier == 1 })
    }
    #expect(harness.controller.isReady)
    #expect(harness.controller.commandsInFlight == 0)
    #expect(harness.write(pattern(count: 512, seed: 1), slba: 0) == .success)
  }
}
