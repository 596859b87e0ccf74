/// A token bucket for rate limiting on the reactor thread: a value type, no
/// allocation, overflow-safe for rates up to and beyond 2^40 per second.
///
/// A request larger than the burst capacity still passes once the bucket is
/// full; the excess becomes debt that later refills pay first, so the long-run
/// rate holds for large commands too.
public struct TokenBucket: Sendable, Hashable {
  static let nanosecondsPerSecond: UInt64 = 1_000_000_000

  /// Tokens per second; 0 means unlimited.
  public private(set) var rate: UInt64
  public private(set) var capacity: UInt64
  public private(set) var tokens: UInt64
  public private(set) var debt: UInt64 = 0
  /// CLOCK_MONOTONIC nanoseconds up to which tokens have been credited.
  public private(set) var lastRefill: UInt64

  /// A bucket that starts full. The default burst is a tenth of a second of
  /// rate, at least one token.
  public init(rate: UInt64, burst: UInt64? = nil, now: UInt64) {
    self.rate = rate
    self.capacity = max(1, burst ?? rate / 10)
    self.tokens = capacity
    self.lastRefill = now
  }

  public mutating func refill(now: UInt64) {
    guard rate != 0, now > lastRefill else { return }
    let elapsed = now &- lastRefill
    let product = elapsed.multipliedFullWidth(by: rate)
    // Saturate when the credit would not fit: the bucket is full anyway.
    guard product.high < Self.nanosecondsPerSecond else {
      debt = 0
      tokens = capacity
      lastRefill = now
      return
    }
    var added = Self.nanosecondsPerSecond.dividingFullWidth(product).quotient
    if added == 0 { return }  // keep the fraction for the next refill
    let paid = min(added, debt)
    debt &-= paid
    added &-= paid
    let (sum, overflow) = tokens.addingReportingOverflow(added)
    if overflow || sum >= capacity {
      tokens = capacity
      lastRefill = now
    } else {
      tokens = sum
      // Credit only the time the whole tokens stand for, keeping the remainder.
      let credited = (added &+ paid).multipliedFullWidth(by: Self.nanosecondsPerSecond)
      let spent = rate.dividingFullWidth(credited).quotient
      lastRefill = min(now, lastRefill &+ spent)
    }
  }

  /// Takes `n` tokens if the bucket holds at least `min(n, capacity)` and
  /// owes nothing; returns whether it did.
  public mutating func take(_ n: UInt64, now: UInt64) -> Bool {
    guard rate != 0 else { return true }
    refill(now: now)
    guard debt == 0, tokens >= min(n, capacity) else { return false }
    if n <= tokens {
      tokens &-= n
    } else {
      debt = n &- tokens
      tokens = 0
    }
    return true
  }

  /// How long from `now` until `take(n)` would succeed (0: at once).
  public func nanosecondsUntil(_ n: UInt64, now: UInt64) -> UInt64 {
    guard rate != 0 else { return 0 }
    var copy = self
    copy.refill(now: now)
    let need = min(n, capacity)
    guard copy.debt != 0 || copy.tokens < need else { return 0 }
    let (owed, o1) = need.addingReportingOverflow(copy.debt)
    let missing = o1 ? UInt64.max : owed &- min(owed, copy.tokens)
    let product = missing.multipliedFullWidth(by: Self.nanosecondsPerSecond)
    guard product.high < rate else { return UInt64.max }
    let (q, r) = rate.dividingFullWidth(product)
    let wait = r == 0 ? q : q &+ 1
    // Time since lastRefill already counts towards the missing tokens.
    let banked = now > copy.lastRefill ? now &- copy.lastRefill : 0
    return wait > banked ? wait &- banked : 1
  }
}

extension TokenBucket {
  /// Whether `take(n)` would succeed now, after `refill(now:)`.
  public func admits(_ n: UInt64) -> Bool {
    rate == 0 || (debt == 0 && tokens >= min(n, capacity))
  }
}
