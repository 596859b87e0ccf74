import Testing

@testable import BenchKit

@Suite struct PacerTests {
  static let millisecond: UInt64 = 1_000_000

  @Test func noPacingIsInactive() {
    let pacer = Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 0)
    #expect(!pacer.isActive)
    #expect(!pacer.mustThink)
    #expect(pacer.intervalNanoseconds == 0)
  }

  @Test func rateBecomesAnInterval() {
    #expect(
      Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 1000).intervalNanoseconds
        == Self.millisecond)
    #expect(
      Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 3).intervalNanoseconds
        == 333_333_333)
    // Faster than a nanosecond apart still paces at one a nanosecond.
    #expect(
      Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 2_000_000_000)
        .intervalNanoseconds == 1)
  }

  @Test func rateLetsOneGoPerInterval() {
    var pacer = Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 1000)
    #expect(pacer.isActive)
    let start = 10 * Self.millisecond
    pacer.start(at: start)
    #expect(pacer.take(now: start, wanted: 10) == 1)
    #expect(pacer.nextDue == start + Self.millisecond)
    #expect(pacer.take(now: start + Self.millisecond / 2, wanted: 10) == 0)
    #expect(pacer.take(now: start + Self.millisecond, wanted: 10) == 1)
    #expect(pacer.take(now: start + Self.millisecond, wanted: 10) == 0)
  }

  @Test func aLoopThatFellBehindGetsNoBurst() {
    var pacer = Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 1000)
    let start = 10 * Self.millisecond
    pacer.start(at: start)
    #expect(pacer.take(now: start, wanted: 100) == 1)
    // 100 intervals late: the schedule restarts one interval back, so at
    // most two go out, not the hundred that were "due".
    let late = start + 100 * Self.millisecond
    #expect(pacer.take(now: late, wanted: 100) == 2)
    #expect(pacer.nextDue == late + Self.millisecond)
  }

  @Test func rateNeverGivesMoreThanWanted() {
    var pacer = Pacer(thinktimeMicroseconds: 0, thinktimeBlocks: 1, rateIOPS: 1000)
    pacer.start(at: 0)
    #expect(pacer.take(now: 0, wanted: 0) == 0)
    #expect(pacer.take(now: 5 * Self.millisecond, wanted: 1) == 1)
  }

  @Test func thinktimeStallsAfterEveryBatch() {
    var pacer = Pacer(thinktimeMicroseconds: 20, thinktimeBlocks: 4, rateIOPS: 0)
    #expect(pacer.isActive)
    #expect(pacer.thinkNanoseconds == 20_000)
    #expect(pacer.take(now: 0, wanted: 10) == 4)
    #expect(pacer.mustThink)
    #expect(pacer.take(now: 0, wanted: 10) == 0)
    pacer.thought()
    #expect(!pacer.mustThink)
    #expect(pacer.take(now: 0, wanted: 3) == 3)
    #expect(!pacer.mustThink)
    #expect(pacer.take(now: 0, wanted: 5) == 1)
    #expect(pacer.mustThink)
  }

  @Test func thinktimeBlocksOfZeroMeansOne() {
    var pacer = Pacer(thinktimeMicroseconds: 5, thinktimeBlocks: 0, rateIOPS: 0)
    #expect(pacer.thinkBlocks == 1)
    #expect(pacer.take(now: 0, wanted: 8) == 1)
    #expect(pacer.mustThink)
  }

  @Test func bothLimitsApply() {
    var pacer = Pacer(thinktimeMicroseconds: 10, thinktimeBlocks: 3, rateIOPS: 1000)
    pacer.start(at: 0)
    #expect(pacer.take(now: 0, wanted: 8) == 1, "the rate is the tighter one")
    #expect(pacer.take(now: Self.millisecond, wanted: 8) == 1)
    #expect(pacer.take(now: 2 * Self.millisecond, wanted: 8) == 1)
    #expect(pacer.mustThink)
    #expect(pacer.take(now: 3 * Self.millisecond, wanted: 8) == 0, "then thinktime")
  }
}
