/// Durations as fio writes them: a number with a unit (`500ms`, `5s`, `2m`,
/// `1h`, `250us`), or a plain number in `defaultUnit` (seconds for
/// --runtime and --ramp, microseconds for --thinktime, as in fio).
public enum DurationArgument {
  public enum Unit: Sendable {
    case microseconds, seconds

    var seconds: Double { self == .seconds ? 1 : 1e-6 }
  }

  /// Seconds, or nil for text that is not a non-negative finite duration.
  public static func seconds(_ text: String, defaultUnit: Unit = .seconds) -> Double? {
    let lower = text.lowercased()
    // Longest suffix first: "ms" before "s", "us" before "s".
    let units: [(String, Double)] = [
      ("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400),
    ]
    var number = Substring(lower)
    var scale = defaultUnit.seconds
    for (suffix, factor) in units where lower.hasSuffix(suffix) {
      number = lower.dropLast(suffix.count)
      scale = factor
      break
    }
    guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
      let value = Double(number), value.isFinite, value >= 0
    else { return nil }
    return value * scale
  }

  /// "10s", "500ms", "2.5s": for help and reports.
  public static func text(seconds: Double) -> String {
    if seconds > 0 && seconds < 1 { return Format.trimmed(seconds * 1000) + "ms" }
    return Format.trimmed(seconds) + "s"
  }
}
