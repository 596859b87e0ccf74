import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// Per-namespace QoS limits over the harness's simulated fine clock.
@Suite struct ControllerQoSTests {
  typealias H = ControllerHarness
  static let ms: UInt64 = 1_000_000

  /// Pushes `count` one-block reads of namespace 1 on `qid`.
  private func pushReads(_ harness: H, _ count: Int, queue qid: UInt16) {
    for index in 0..<count {
      harness.push(
        H.rw(.read, slba: UInt64(index), blocks: 1, prp1: H.page(16), cid: harness.makeCID()),
        queue: qid)
    }
  }

  /// Advances the clock in 1 ms steps for `milliseconds`, polling and
  /// counting completions per queue.
  private func run(_ harness: H, milliseconds: Int, queues: [UInt16]) -> [UInt16: Int] {
    var done: [UInt16: Int] = [:]
    for _ in 0..<milliseconds {
      harness.nanoseconds += Self.ms
      harness.controller.poll()
      for qid in queues { done[qid, default: 0] += harness.drain(queue: qid).count }
    }
    harness.controller.poll()
    for qid in queues { done[qid, default: 0] += harness.drain(queue: qid).count }
    return done
  }

  @Test func limitsAreSetReadAndRemoved() throws {
    let harness = try H.ready()
    #expect(harness.controller.qosLimits(nsid: 1) == nil)
    let limits = QoSLimits(iops: 100, bytesPerSecond: 1 << 20)
    try harness.controller.setQoS(nsid: 1, limits: limits)
    #expect(harness.controller.qosLimits(nsid: 1) == limits)
    #expect(throws: QoSError.unknownNamespace(2)) {
      try harness.controller.setQoS(nsid: 2, limits: limits)
    }
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 0, bytesPerSecond: nil))
    #expect(harness.controller.qosLimits(nsid: 1) == nil)
  }

  @Test func anIOPSLimitAdmitsAboutThatRateAndSetsTheTimer() throws {
    let harness = try H.ready()
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 100))
    let start = harness.nanoseconds
    pushReads(harness, 63, queue: 1)
    harness.controller.poll()
    harness.controller.poll()
    // The burst (a tenth of a second) goes at once, then one per 10 ms.
    #expect(harness.drain(queue: 1).count == 10)
    #expect(harness.controller.nextTimerDeadline == start + 10 * Self.ms)
    #expect(harness.controller.qosThrottledCommands(nsid: 1) == 1)
    let done = run(harness, milliseconds: 500, queues: [1])[1] ?? 0
    #expect(done == 50)
    #expect(harness.controller.nextTimerDeadline == start + 510 * Self.ms)
    #expect(harness.recorders[0].operations(.read).count == 60)
  }

  @Test func aBandwidthLimitCountsBytes() throws {
    let harness = try H.ready()
    // 100 blocks a second: a burst of 10 blocks, then one 4-block read per 40 ms.
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(bytesPerSecond: 51_200))
    for index in 0..<20 {
      harness.push(
        H.rw(.read, slba: UInt64(index * 4), blocks: 4, prp1: H.page(16), cid: harness.makeCID()),
        queue: 1)
    }
    harness.controller.poll()
    // Two fit the 5120-byte burst; the third waits 20 ms for the rest.
    #expect(harness.drain(queue: 1).count == 2)
    let done = run(harness, milliseconds: 400, queues: [1])[1] ?? 0
    #expect(done == 10)
  }

  @Test func aHeldCommandIsNotReadAgainFromGuestMemory() throws {
    let harness = try H.ready()
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 1))
    let data = pattern(count: 1024, seed: 7)
    harness.memory.poke(H.page(16), data)
    harness.push(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16), cid: 1), queue: 1)
    harness.push(H.rw(.write, slba: 1, blocks: 1, prp1: H.page(16) + 512, cid: 2), queue: 1)
    harness.controller.poll()
    #expect(harness.drain(queue: 1).map(\.commandIdentifier) == [1])
    // The host rewrites the held entry: the copy fetched first is what runs.
    let queue = try #require(harness.queues[1])
    let changed = H.rw(.write, slba: 5, blocks: 1, prp1: H.page(16) + 512, cid: 2)
    harness.memory.poke(queue.sqBase + 64, changed.encode())
    harness.nanoseconds += 1_000 * Self.ms
    harness.controller.poll()
    harness.controller.poll()
    #expect(harness.drain(queue: 1).map(\.commandIdentifier) == [2])
    #expect(harness.stored(offset: 512, count: 512) == Array(data[512..<1024]))
    #expect(harness.stored(offset: 5 * 512, count: 512).allSatisfy { $0 == 0 })
  }

  @Test func queuesSharingALimitShareItFairly() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2))
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 100))
    pushReads(harness, 40, queue: 1)
    pushReads(harness, 40, queue: 2)
    harness.controller.poll()
    // The burst goes to whichever queue came first; count what follows it.
    #expect(harness.drain(queue: 1).count + harness.drain(queue: 2).count == 10)
    let done = run(harness, milliseconds: 400, queues: [1, 2])
    let first = done[1] ?? 0
    let second = done[2] ?? 0
    #expect(first + second == 40)
    #expect(abs(first - second) <= max(first, second) / 5)
  }

  @Test func aResetDropsHeldCommandsAndKeepsTheLimits() throws {
    let harness = try H.ready()
    let limits = QoSLimits(iops: 1)
    try harness.controller.setQoS(nsid: 1, limits: limits)
    harness.push(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16), cid: 1), queue: 1)
    harness.push(H.rw(.write, slba: 1, blocks: 1, prp1: H.page(16), cid: 2), queue: 1)
    harness.controller.poll()
    #expect(harness.controller.qosThrottledCommands(nsid: 1) == 1)
    harness.write32(RegisterOffset.cc, 0)
    harness.controller.poll()
    #expect(harness.controller.nextTimerDeadline == nil)
    harness.queues = [:]
    harness.enable()
    harness.controller.poll()
    #expect(harness.createIOQueuePair(1))
    harness.nanoseconds += 10_000 * Self.ms
    harness.controller.poll()
    #expect(harness.recorders[0].operations(.write).count == 1)
    #expect(harness.controller.qosLimits(nsid: 1) == limits)
  }

  @Test func removingTheLimitReleasesHeldCommandsAtOnce() throws {
    let harness = try H.ready()
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 1))
    pushReads(harness, 5, queue: 1)
    harness.controller.poll()
    harness.controller.poll()
    #expect(harness.drain(queue: 1).count == 1)
    #expect(harness.controller.nextTimerDeadline != nil)
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 0))
    harness.controller.poll()
    harness.controller.poll()
    #expect(harness.drain(queue: 1).count == 4)
    #expect(harness.controller.nextTimerDeadline == nil)
  }

  @Test func flushAndAdminCommandsAreNotLimited() throws {
    let harness = try H.ready()
    try harness.controller.setQoS(nsid: 1, limits: QoSLimits(iops: 1))
    for _ in 0..<4 {
      harness.push(
        SubmissionQueueEntry(
          opcode: NVMOpcode.flush.rawValue, commandIdentifier: harness.makeCID(),
          namespaceIdentifier: 1),
        queue: 1)
    }
    harness.controller.poll()
    harness.controller.poll()
    #expect(harness.drain(queue: 1).count == 4)
    #expect(harness.identify(cns: 1).0 == .success)
    #expect(harness.controller.qosThrottledCommands(nsid: 1) == 0)
  }
}
