import Histogram

/// One direction's figures (reads, writes or both together) over the
/// measured window: counts, rates and the latency distribution in ns.
struct DirectionFigures {
  /// fio's default percentile list.
  static let percentiles: [Double] = [
    1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
  ]

  var ios: UInt64
  var bytes: UInt64
  var iops: Double
  var bytesPerSecond: Double
  var minNanoseconds: UInt64
  var maxNanoseconds: UInt64
  var meanNanoseconds: Double
  var stddevNanoseconds: Double
  private let histogram: Histogram<UInt64>

  init(ios: UInt64, blockSize: Int, seconds: Double, histogram: Histogram<UInt64>) {
    self.ios = ios
    bytes = ios &* UInt64(blockSize)
    let seconds = max(seconds, 1e-9)
    iops = Double(ios) / seconds
    bytesPerSecond = Double(bytes) / seconds
    self.histogram = histogram
    let empty = histogram.totalCount == 0
    minNanoseconds = empty ? 0 : histogram.min
    maxNanoseconds = empty ? 0 : histogram.max
    meanNanoseconds = empty ? 0 : histogram.mean
    stddevNanoseconds = empty ? 0 : histogram.stdDeviation
  }

  /// Latency at `percentile` (0 when nothing was recorded).
  func nanoseconds(atPercentile percentile: Double) -> UInt64 {
    histogram.totalCount == 0 ? 0 : histogram.valueAtPercentile(percentile)
  }

  var samples: UInt64 { histogram.totalCount }
}

extension PerfResult {
  var readFigures: DirectionFigures {
    DirectionFigures(
      ios: reads, blockSize: plan.blockSize, seconds: seconds, histogram: readHistogram)
  }

  var writeFigures: DirectionFigures {
    DirectionFigures(
      ios: writes, blockSize: plan.blockSize, seconds: seconds, histogram: writeHistogram)
  }

  var totalFigures: DirectionFigures {
    DirectionFigures(ios: ios, blockSize: plan.blockSize, seconds: seconds, histogram: histogram)
  }
}
