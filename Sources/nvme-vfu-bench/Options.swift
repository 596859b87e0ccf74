import ArgumentParser
import BenchKit
import NVMeHostDriver

extension RWMode: ExpressibleByArgument {}

extension IRQCoalescingOption: ExpressibleByArgument {}

enum CompletionOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case poll, interrupt

  var mode: CompletionMode { self == .poll ? .poll : .interrupt }
}

enum DataPointerOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case prp, sgl

  var kind: DataPointerKind { self == .prp ? .prp : .sgl }
}

enum SwitchOption: String, CaseIterable, ExpressibleByArgument, Sendable {
  case on, off
}

enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
  case normal, json
}

/// Sizes as fio writes them: 4k, 128K, 1m, 1G (powers of 1024), or bytes.
enum SizeArgument {
  static func parse(_ text: String) -> UInt64? {
    let lower = text.lowercased()
    let units: [(String, UInt64)] = [
      ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
      ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1),
    ]
    for (suffix, scale) in units where lower.hasSuffix(suffix) {
      guard let value = UInt64(lower.dropLast(suffix.count)) else { return nil }
      let (product, overflow) = value.multipliedReportingOverflow(by: scale)
      return overflow ? nil : product
    }
    return UInt64(lower)
  }
}

/// A duration option: `5s`, `500ms`, `2m`; a plain number is seconds.
struct SecondsOption: ExpressibleByArgument, CustomStringConvertible, Sendable {
  var seconds: Double

  init(_ seconds: Double) { self.seconds = seconds }

  init?(argument: String) {
    guard let seconds = DurationArgument.seconds(argument) else { return nil }
    self.seconds = seconds
  }

  var description: String { DurationArgument.text(seconds: seconds) }
}

/// fio's --thinktime: a plain number is microseconds; units as for seconds.
struct MicrosecondsOption: ExpressibleByArgument, CustomStringConvertible, Sendable {
  var microseconds: UInt64

  init(_ microseconds: UInt64) { self.microseconds = microseconds }

  init?(argument: String) {
    guard let seconds = DurationArgument.seconds(argument, defaultUnit: .microseconds),
      seconds <= 86400
    else { return nil }
    microseconds = UInt64((seconds * 1e6).rounded())
  }

  var description: String { "\(microseconds)" }
}
