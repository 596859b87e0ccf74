import Testing

@testable import NVMe

/// Token bucket arithmetic: refill, burst, debt for large requests, overflow.
@Suite struct TokenBucketTests {
  static let ms: UInt64 = 1_000_000

  @Test func startsFullWithATenthOfASecondAndRefillsByElapsedTime() {
    var took = false
    var bucket = TokenBucket(rate: 1000, now: 0)
    #expect(bucket.capacity == 100)
    took = bucket.take(100, now: 0)
    #expect(took)
    took = bucket.take(1, now: 0)
    #expect(!took)
    #expect(bucket.nanosecondsUntil(1, now: 0) == 1 * Self.ms)
    bucket.refill(now: 50 * Self.ms)
    #expect(bucket.tokens == 50)
    // The burst caps what an idle bucket saves up.
    bucket.refill(now: 10_000 * Self.ms)
    #expect(bucket.tokens == 100)
  }

  @Test func fractionsOfATokenAreNotLost() {
    var took = false
    var bucket = TokenBucket(rate: 30, burst: 100, now: 0)
    took = bucket.take(100, now: 0)
    #expect(took)
    // 0.3 tokens a step: flooring each step would never credit any.
    for step in 1...100 { bucket.refill(now: UInt64(step) * 10 * Self.ms) }
    #expect(bucket.tokens == 30)
  }

  @Test func aRequestLargerThanTheBurstPassesAndRunsUpDebt() {
    var took = false
    var bucket = TokenBucket(rate: 1000, now: 0)
    took = bucket.take(450, now: 0)
    #expect(took)
    #expect(bucket.debt == 350)
    took = bucket.take(1, now: 0)
    #expect(!took)
    #expect(bucket.nanosecondsUntil(1, now: 0) == 351 * Self.ms)
    took = bucket.take(1, now: 350 * Self.ms)
    #expect(!took)
    took = bucket.take(1, now: 351 * Self.ms)
    #expect(took)
    // Long-run rate: 451 tokens in 351 ms plus the 100 burst.
    #expect(bucket.tokens == 0)
  }

  @Test func bigRatesAndLongGapsDoNotOverflow() {
    var took = false
    let rate: UInt64 = 1 << 40
    var bucket = TokenBucket(rate: rate, now: 1 << 62)
    #expect(bucket.capacity == rate / 10)
    took = bucket.take(bucket.capacity, now: 1 << 62)
    #expect(took)
    bucket.refill(now: UInt64.max)
    #expect(bucket.tokens == bucket.capacity)
    took = bucket.take(UInt64.max, now: UInt64.max)
    #expect(took)
    #expect(bucket.debt == UInt64.max - rate / 10)
    // About 2^64 / 2^40 seconds of debt: a finite, huge wait.
    let wait = bucket.nanosecondsUntil(1, now: UInt64.max)
    #expect(wait > 16_000_000 * 1_000_000_000 && wait < UInt64.max)
    var slow = TokenBucket(rate: 1, now: 0)
    took = slow.take(UInt64.max, now: 0)
    #expect(took)
    #expect(slow.nanosecondsUntil(UInt64.max, now: 0) == UInt64.max)
  }

  @Test func rateZeroIsUnlimited() {
    var took = false
    var bucket = TokenBucket(rate: 0, now: 0)
    took = bucket.take(UInt64.max, now: 0)
    #expect(took)
    took = bucket.take(UInt64.max, now: 0)
    #expect(took)
    #expect(bucket.nanosecondsUntil(UInt64.max, now: 0) == 0)
  }
}
