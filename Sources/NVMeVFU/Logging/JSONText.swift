import Control
import Logging

/// JSON text for log lines, written by hand so members keep their order.
enum JSONText {
  static func string(_ text: String) -> String { JSONValue.quoted(text) }

  /// Integers and booleans given as values stay numbers and booleans; the rest are text.
  static func value(_ value: Logger.MetadataValue) -> String {
    switch value {
    case .string(let text): string(text)
    case .stringConvertible(let convertible):
      switch convertible {
      case let integer as any BinaryInteger: "\(integer)"
      case let flag as Bool: "\(flag)"
      case let number as Double where number.isFinite: "\(number)"
      default: string(convertible.description)
      }
    case .array(let values): "[" + values.map(Self.value).joined(separator: ",") + "]"
    case .dictionary(let members):
      "{"
        + members.sorted { $0.key < $1.key }.map { "\(string($0.key)):\(Self.value($0.value))" }
        .joined(separator: ",") + "}"
    }
  }
}
