import Glibc
import NVMe
import NVMeVFU
import Testing
import VFIOUserClient

/// The host's shadow doorbells against the real server (trapped doorbells,
/// so a missed ring leaves a sleeping reactor asleep and the I/O times out).
extension NVMeVFUTests {
  /// QD1 with the reactor asleep before each command: the submission passes
  /// the EventIdx the reactor armed and must ring (else the reactor sleeps
  /// on and the command times out); data is right. Then after a controller
  /// reset the host configures the buffers again.
  @Test func shadowDoorbellsAtQD1WakeASleepingReactor() throws {
    let server = try InProcessServer(doorbells: .trapped)
    defer { server.shutdown() }
    let host = try server.host()
    #expect(host.shadowDoorbellsOffered)
    var queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    #expect(host.shadowDoorbellsActive)
    #expect(queue.usesShadowDoorbells)
    let source = try host.allocate(4096)
    let target = try host.allocate(4096)
    let rounds = 5
    var seenAsleep = 0
    for round in 0..<rounds {
      fill(source, seed: UInt8(round))
      usleep(20_000)  // well past the reactor's spin: asleep, EventIdx armed
      // Where /proc shows it (x86_64): asleep in ppoll with no timeout.
      if Self.sleepsWithoutTimeout(server) != nil,
        ProcessProbe.eventually(seconds: 2, { Self.sleepsWithoutTimeout(server) == true })
      {
        seenAsleep += 1
      }
      try host.execute(.write(lba: UInt64(round * 8), blocks: 8, buffer: source), on: queue)
      try host.execute(.read(lba: UInt64(round * 8), blocks: 8, buffer: target), on: queue)
      #expect(same(source, target), "round \(round)")
    }
    #expect(queue.submitted == UInt64(2 * rounds))
    // Each write after a sleep seen had to ring; never more than one ring
    // per submission.
    #expect(queue.submissionDoorbellRings >= UInt64(max(1, seenAsleep)))
    #expect(queue.submissionDoorbellRings <= queue.submitted)

    try host.resetController()
    #expect(!host.shadowDoorbellsActive, "a reset forgets the buffers")
    try host.enableController()
    queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    #expect(host.shadowDoorbellsActive && queue.usesShadowDoorbells)
    usleep(20_000)
    try host.execute(.read(lba: 0, blocks: 8, buffer: target), on: queue)
    fill(source, seed: 0)
    #expect(same(source, target), "I/O after the reset, through fresh shadows")
  }

  /// A closed loop at QD32 against a reactor that never sleeps (so the
  /// count does not depend on how often this busy machine deschedules the
  /// host and lets an adaptive reactor doze): with shadows it never moves
  /// EventIdx from where queue creation put it (0), so the host owes a ring
  /// exactly when a tail or head passes entry 0, once per ring wrap; without
  /// shadows every submission rings.
  @Test(arguments: [true, false])
  func qd32RingsPerSubmission(shadows: Bool) throws {
    let server = try InProcessServer(mode: .busy, doorbells: .trapped)
    defer { server.shutdown() }
    let host = try server.host { $0.shadowDoorbells = shadows }
    #expect(host.shadowDoorbellsOffered)
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 256))
    #expect(host.shadowDoorbellsActive == shadows && queue.usesShadowDoorbells == shadows)
    let depth = 32
    let total = 3000
    let buffers = try (0..<depth).map { _ in try host.allocate(4096) }
    // Each block is written once with its own pattern, then read back.
    func submit(_ index: Int, slot: Int, write: Bool) throws {
      let buffer = buffers[slot]
      let lba = UInt64(index % 2048) * 8
      if write {
        fill(buffer, seed: UInt8(truncatingIfNeeded: index % 2048))
        try queue.submit(.write(lba: lba, blocks: 8, buffer: buffer), tag: UInt64(slot))
      } else {
        try queue.submit(.read(lba: lba, blocks: 8, buffer: buffer), tag: UInt64(slot))
      }
    }
    let check = try host.allocate(4096)
    for pass in [true, false] {
      var issued = 0
      var done = 0
      var failures = 0
      var mismatches = 0
      var indexOfSlot = [Int](repeating: 0, count: depth)
      let count = pass ? 2048 : total
      for slot in 0..<depth {
        indexOfSlot[slot] = issued
        try submit(issued, slot: slot, write: pass)
        issued += 1
      }
      while done < count {
        var finished: [Int] = []
        try queue.process(timeoutMilliseconds: 5000) { completion in
          if !completion.isSuccess { failures += 1 }
          finished.append(Int(completion.tag))
        }
        for slot in finished {
          done += 1
          if !pass {
            fill(check, seed: UInt8(truncatingIfNeeded: indexOfSlot[slot] % 2048))
            if !same(check, buffers[slot]) { mismatches += 1 }
          }
          guard issued < count else { continue }
          indexOfSlot[slot] = issued
          try submit(issued, slot: slot, write: pass)
          issued += 1
        }
      }
      #expect(failures == 0 && mismatches == 0, "\(pass ? "writes" : "reads")")
    }
    let submissions = queue.submitted
    #expect(submissions == UInt64(2048 + total))
    if shadows {
      // 5048 submissions and completions on a 256-entry ring pass entry 0
      // at 0, 256, ..., 4864: 20 times each, 40 rings for 5048 I/Os.
      let wraps = (submissions + 255) / 256
      #expect(queue.submissionDoorbellRings == wraps)
      #expect(queue.completionDoorbellRings == wraps)
    } else {
      #expect(queue.submissionDoorbellRings == submissions, "one ring per submission")
      #expect(queue.completionDoorbellRings > 0)
    }
    print(
      "shadow doorbells \(shadows ? "on" : "off"), QD\(depth): \(queue.doorbellRings) real doorbell writes for \(submissions) I/Os (SQ \(queue.submissionDoorbellRings), CQ \(queue.completionDoorbellRings))"
    )
  }

  /// Fd-less guest RAM: the server cannot map the buffers and refuses 7Ch;
  /// the host carries on with real doorbells.
  @Test func refusedDoorbellBufferConfigLeavesRealDoorbells() throws {
    let server = try InProcessServer(doorbells: .trapped)
    defer { server.shutdown() }
    let host = try server.host { $0.sharing = .messages }
    #expect(host.shadowDoorbellsOffered)
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    #expect(!host.shadowDoorbellsActive && !queue.usesShadowDoorbells)
    let source = try host.allocate(4096)
    let target = try host.allocate(4096)
    fill(source, seed: 9)
    try host.execute(.write(lba: 0, blocks: 8, buffer: source), on: queue)
    try host.execute(.read(lba: 0, blocks: 8, buffer: target), on: queue)
    #expect(same(source, target))
    #expect(queue.submissionDoorbellRings == 2)
  }
}
