import BlockIO
import Testing

@testable import NVMe

/// Interrupt Coalescing (FID 08h) and Interrupt Vector Configuration (FID
/// 09h) honoured per vector: entries are signalled when THR + 1 of them have
/// waited or TIME has passed since the first, never on the admin vector.
/// Every case spreads its completions over several turns, since without
/// coalescing a vector is raised once per turn that posts on it.
@Suite struct ControllerInterruptCoalescingTests {
  typealias H = ControllerHarness

  /// THR in 7:0 (0's based), TIME in 15:8 (100 us units).
  static func coalescing(threshold: UInt8, time: UInt8) -> UInt32 {
    UInt32(time) << 8 | UInt32(threshold)
  }

  /// One flush per turn on `qid`, each completion consumed by the host.
  func completeOnePerTurn(_ harness: H, count: Int, queue qid: UInt16 = 1) {
    for _ in 0..<count {
      harness.push(
        SubmissionQueueEntry(
          opcode: NVMOpcode.flush.rawValue, commandIdentifier: harness.makeCID(),
          namespaceIdentifier: 1),
        queue: qid)
      harness.controller.poll()
      #expect(harness.drain(queue: qid).map(\.status) == [.success])
    }
  }

  @Test func thresholdOfEightRaisesOneInterruptForEightEntries() throws {
    let harness = try H.ready()
    let set = harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 255))
    #expect(set?.status == .success)
    harness.interrupts = []
    completeOnePerTurn(harness, count: 7)
    #expect(harness.interrupts.isEmpty)
    completeOnePerTurn(harness, count: 1)
    #expect(harness.interrupts == [1])
    #expect(harness.controller.nextTimerDeadline == nil)

    // Seven more wait for TIME (25.5 ms from the turn that posted the first).
    harness.interrupts = []
    let first = harness.nanoseconds
    completeOnePerTurn(harness, count: 1)
    harness.nanoseconds += 1_000_000
    completeOnePerTurn(harness, count: 6)
    #expect(harness.interrupts.isEmpty)
    #expect(harness.controller.nextTimerDeadline == first + 25_500_000)
    harness.nanoseconds = first + 25_499_999
    harness.controller.poll()
    #expect(harness.interrupts.isEmpty)
    harness.nanoseconds = first + 25_500_000
    harness.controller.poll()
    #expect(harness.interrupts == [1])
    harness.controller.poll()
    #expect(harness.interrupts == [1])
    #expect(harness.controller.nextTimerDeadline == nil)
  }

  @Test func loneCompletionIsSignalledWhenTheTimeHasPassed() throws {
    let harness = try H.ready()
    #expect(harness.controller.nextTimerDeadline == nil)
    #expect(
      harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 1))?.status == .success)
    #expect(harness.controller.nextTimerDeadline == nil)
    harness.interrupts = []
    let posted = harness.nanoseconds
    completeOnePerTurn(harness, count: 1)
    #expect(harness.interrupts.isEmpty)
    #expect(harness.controller.nextTimerDeadline == posted + 100_000)
    harness.nanoseconds = posted + 99_999
    harness.controller.poll()
    #expect(harness.interrupts.isEmpty)
    harness.nanoseconds = posted + 150_000
    harness.controller.poll()
    #expect(harness.interrupts == [1])
    #expect(harness.controller.nextTimerDeadline == nil)
  }

  @Test func zeroThresholdOrZeroTimeMeansNoCoalescing() throws {
    let harness = try H.ready()
    for value in [
      Self.coalescing(threshold: 0, time: 255), Self.coalescing(threshold: 255, time: 0),
    ] {
      #expect(harness.setFeature(0x08, cdw11: value)?.status == .success)
      harness.interrupts = []
      completeOnePerTurn(harness, count: 3)
      #expect(harness.interrupts == [1, 1, 1], "08h = \(value)")
      #expect(harness.controller.nextTimerDeadline == nil)
    }
  }

  @Test func entryPostedOutsideATurnAsksForATurnAtOnce() throws {
    let harness = try H.ready()
    #expect(
      harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 2))?.status == .success)
    harness.interrupts = []
    harness.recorders[0].holding = true
    harness.push(H.rw(.read, slba: 0, blocks: 1, prp1: H.page(16), cid: 9), queue: 1)
    harness.controller.poll()
    #expect(harness.controller.nextTimerDeadline == nil)
    // A DMA unmap drains the backends between turns: the entry is posted
    // there, and its deadline is stamped by the next turn.
    harness.controller.memoryWillChange()
    #expect(harness.drain(queue: 1).map(\.commandIdentifier) == [9])
    #expect(harness.controller.nextTimerDeadline == 0)
    harness.controller.poll()
    #expect(harness.controller.nextTimerDeadline == harness.nanoseconds + 200_000)
    #expect(harness.interrupts.isEmpty)
  }

  @Test func coalescingDisabledVectorInterruptsEveryTurn() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2))
    #expect(harness.setFeature(0x09, cdw11: 1 << 16 | 2)?.status == .success)
    #expect(
      harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 255))?.status == .success)
    harness.interrupts = []
    completeOnePerTurn(harness, count: 3, queue: 2)
    #expect(harness.interrupts == [2, 2, 2])
    // Vector 1 keeps coalescing; clearing CD on 2 makes it coalesce too.
    harness.interrupts = []
    completeOnePerTurn(harness, count: 3, queue: 1)
    #expect(harness.interrupts.isEmpty)
    #expect(harness.setFeature(0x09, cdw11: 2)?.status == .success)
    harness.interrupts = []
    completeOnePerTurn(harness, count: 3, queue: 2)
    #expect(harness.interrupts.isEmpty)
  }

  @Test func adminVectorIsNeverDelayed() throws {
    let harness = try H.ready()
    // An I/O queue sharing vector 0 with the admin queue is not delayed either.
    #expect(harness.createIOQueuePair(2, vector: 0))
    #expect(harness.setFeature(0x09, cdw11: 0)?.status == .success)
    #expect(
      harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 255))?.status == .success)
    harness.interrupts = []
    for _ in 0..<3 { #expect(harness.getFeature(0x08)?.status == .success) }
    #expect(harness.interrupts == [0, 0, 0])
    harness.interrupts = []
    completeOnePerTurn(harness, count: 3, queue: 2)
    #expect(harness.interrupts == [0, 0, 0])
    // Vector 0 reports CD whatever was set.
    #expect(harness.getFeature(0x09, cdw11: 0)?.dw0 == 1 << 16)
  }

  @Test func errorCompletionIsSignalledAtOnce() throws {
    let harness = try H.ready()
    #expect(
      harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 255))?.status == .success)
    harness.interrupts = []
    completeOnePerTurn(harness, count: 2)
    #expect(harness.interrupts.isEmpty)
    _ = harness.pushFailingReads(1, queue: 1)
    #expect(harness.interrupts == [1])
    #expect(harness.drain(queue: 1).map(\.status) == [.lbaOutOfRange])
    // That interrupt covered the two that waited: nothing is left to time out.
    #expect(harness.controller.nextTimerDeadline == nil)
  }

  @Test func turningCoalescingOffSignalsWhatWaited() throws {
    let harness = try H.ready()
    #expect(
      harness.setFeature(0x08, cdw11: Self.coalescing(threshold: 7, time: 255))?.status == .success)
    harness.interrupts = []
    completeOnePerTurn(harness, count: 3)
    #expect(harness.interrupts.isEmpty)
    #expect(harness.setFeature(0x08, cdw11: 0)?.status == .success)
    #expect(harness.interrupts.sorted() == [0, 1])
    #expect(harness.controller.nextTimerDeadline == nil)
  }

  @Test func resetDropsWaitingEntriesAndFeaturesReadBack() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2))
    #expect(
      harness.setFeature(0x08, cdw11: 0xFFFF_0000 | Self.coalescing(threshold: 7, time: 1))?
        .status == .success)
    #expect(harness.setFeature(0x09, cdw11: 1 << 16 | 2)?.status == .success)
    #expect(harness.getFeature(0x08)?.dw0 == 0x0107)
    #expect(harness.getFeature(0x09, cdw11: 2)?.dw0 == 0x1_0002)
    #expect(harness.getFeature(0x09, cdw11: 1)?.dw0 == 1)
    harness.interrupts = []
    completeOnePerTurn(harness, count: 3)
    #expect(harness.controller.nextTimerDeadline != nil)

    harness.write32(RegisterOffset.cc, 0)
    harness.queues = [:]
    #expect(harness.controller.nextTimerDeadline == nil)
    harness.enable()
    harness.controller.poll()
    #expect(harness.createIOQueuePair(1))
    harness.nanoseconds += 1_000_000
    harness.controller.poll()
    // The three that waited went with their queue: no vector 1 since.
    #expect(!harness.interrupts.contains(1))
    #expect(harness.getFeature(0x08)?.dw0 == 0)
    #expect(harness.getFeature(0x09, cdw11: 2)?.dw0 == 2)
    // Defaults again: every turn with a completion raises its vector.
    harness.interrupts = []
    completeOnePerTurn(harness, count: 2)
    #expect(harness.interrupts == [1, 1])
  }
}
