import Logging

/// JSON text for log lines, written by hand so members keep their order.
enum JSONText {
  /// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
  static func string(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

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
