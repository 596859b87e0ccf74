/// Command latencies in nanoseconds, log-linear: 16 buckets per power of two
/// (about 6% wide), so p50/p99 come out within a few percent for any value
/// up to 2^64 ns. A fixed array allocated once: recording costs a few
/// instructions and never allocates (the reactor's rule).
public struct LatencyHistogram: Sendable, Hashable {
  static let subBuckets = 16
  /// Values 0-15 exactly, then 16 buckets for each exponent 4...63.
  public static let bucketCount = 16 + (64 - 4) * 16

  public private(set) var counts: [UInt64]
  public private(set) var total: UInt64 = 0
  public private(set) var sum: UInt64 = 0

  public init() {
    counts = Array(repeating: 0, count: Self.bucketCount)
  }

  static func bucket(of value: UInt64) -> Int {
    guard value >= 16 else { return Int(value) }
    let exponent = 63 &- value.leadingZeroBitCount  // 4...63
    let sub = Int((value >> UInt64(exponent &- 4)) & 15)
    return (exponent &- 3) &* 16 &+ sub
  }

  /// The largest value that falls in `bucket`.
  static func upperBound(of bucket: Int) -> UInt64 {
    guard bucket >= 16 else { return UInt64(bucket) }
    let exponent = bucket / 16 + 3
    let sub = UInt64(bucket % 16)
    let width = UInt64(1) << UInt64(exponent - 4)
    let (lower, overflow) = (16 &+ sub).multipliedReportingOverflow(by: width)
    return overflow ? .max : lower &+ (width &- 1)
  }

  public mutating func record(_ nanoseconds: UInt64) {
    let index = Self.bucket(of: nanoseconds)
    counts[index] &+= 1
    total &+= 1
    sum &+= nanoseconds
  }

  /// The value at quantile `q` (0...1): the upper bound of the bucket holding
  /// it, so the answer errs high by at most one bucket. nil when empty.
  public func percentile(_ q: Double) -> UInt64? {
    guard total > 0 else { return nil }
    let clamped = min(max(q, 0), 1)
    let rank = max(1, UInt64((clamped * Double(total)).rounded(.up)))
    var seen: UInt64 = 0
    for (index, count) in counts.enumerated() where count > 0 {
      seen &+= count
      if seen >= rank { return Self.upperBound(of: index) }
    }
    return Self.upperBound(of: Self.bucketCount - 1)
  }

  /// How many values were at most `nanoseconds`, at bucket granularity (a
  /// bucket counts when its upper bound is within the limit): a Prometheus
  /// histogram's cumulative `le` count.
  public func count(atMost nanoseconds: UInt64) -> UInt64 {
    var result: UInt64 = 0
    for (index, count) in counts.enumerated() where count > 0 {
      guard Self.upperBound(of: index) <= nanoseconds else { break }
      result &+= count
    }
    return result
  }
}
