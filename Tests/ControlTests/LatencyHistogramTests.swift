import NVMe
import Testing

@Suite struct LatencyHistogramTests {
  @Test func percentilesAreWithinABucket() {
    var histogram = LatencyHistogram()
    for value in 1...10_000 { histogram.record(UInt64(value) * 1000) }  // 1 us ... 10 ms
    let p50 = histogram.percentile(0.5) ?? 0
    let p99 = histogram.percentile(0.99) ?? 0
    #expect(p50 >= 5_000_000 && p50 <= 5_000_000 * 107 / 100)
    #expect(p99 >= 9_900_000 && p99 <= 9_900_000 * 107 / 100)
    #expect(histogram.total == 10_000)
  }

  @Test func emptyHasNoPercentile() {
    #expect(LatencyHistogram().percentile(0.5) == nil)
  }

  @Test func extremesFitTheTable() {
    var histogram = LatencyHistogram()
    histogram.record(0)
    histogram.record(.max)
    #expect(histogram.total == 2)
    #expect(histogram.percentile(1) == .max)
    #expect(histogram.percentile(0) == 0)
  }

  @Test func cumulativeCountsForPrometheusBuckets() {
    var histogram = LatencyHistogram()
    for _ in 0..<3 { histogram.record(5_000) }  // 5 us
    for _ in 0..<2 { histogram.record(2_000_000) }  // 2 ms
    #expect(histogram.count(atMost: 10_000) == 3)
    #expect(histogram.count(atMost: 1_000_000) == 3)
    #expect(histogram.count(atMost: 10_000_000) == 5)
  }
}
