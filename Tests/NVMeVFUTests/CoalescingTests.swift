import Glibc
import NVMe
import NVMeHostDriver
import POSIX
import Testing
import VFIOUser

extension NVMeVFUTests {
  /// Interrupt Coalescing through the real server: commands one at a time
  /// (the host spins on the phase tag, so it never waits for an interrupt)
  /// raise one interrupt each without it, about one per THR + 1 with it, and
  /// a lone entry is signalled once TIME has passed, by the reactor's turns.
  @Test func interruptCoalescingOverTheServer() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host { $0.completionMode = .interrupt }
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let vectors = try #require(host.vectors)

    // The host may see the last entry before the server's turn ends and
    // raises the vector: let that turn finish before counting.
    func interrupts() -> UInt64 {
      usleep(20_000)
      vectors.consume(queue.vector)
      return vectors.interrupts[queue.vector]
    }
    func flushes(_ count: Int) throws {
      for _ in 0..<count {
        try queue.submit(.flush())
        let deadline = MonotonicClock.nanoseconds() &+ 5_000_000_000
        while !queue.hasCompletion {
          guard MonotonicClock.nanoseconds() < deadline else {
            throw NVMeHostError.timeout("flush")
          }
        }
        var failures = 0
        try queue.reap { failures += $0.isSuccess ? 0 : 1 }
        #expect(failures == 0)
      }
    }
    func setCoalescing(threshold: UInt8, time: UInt8) throws {
      try host.admin(
        NVMeCommand(
          opcode: AdminOpcode.setFeatures.rawValue,
          cdw10: UInt32(FeatureID.interruptCoalescing.rawValue),
          cdw11: UInt32(time) << 8 | UInt32(threshold)))
    }

    var before = interrupts()
    try flushes(16)
    #expect(interrupts() - before == 16, "one per turn without coalescing")

    try setCoalescing(threshold: 7, time: 255)
    before = interrupts()
    let start = MonotonicClock.nanoseconds()
    try flushes(64)
    let raised = interrupts() - before
    let elapsed = MonotonicClock.nanoseconds() - start
    // Eight thresholds, plus one for each 25.5 ms the run took (a slow
    // machine lets TIME run out before eight entries are in).
    #expect(raised >= 8 && raised <= 8 + elapsed / 25_500_000 + 1, "\(raised) in \(elapsed) ns")

    // A lone entry: signalled 1 ms later, with no other event to wake the
    // reactor. Setting the feature signalled anything left from above.
    try setCoalescing(threshold: 7, time: 10)
    before = interrupts()
    try flushes(1)
    #expect(vectors.wait(queue.vector, timeoutMilliseconds: 1000) == .vector)
    #expect(interrupts() - before == 1)
  }
}
