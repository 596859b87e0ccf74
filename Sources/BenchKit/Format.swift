import Control

/// Number formatting without Foundation.
public enum Format {
  /// `value` with `digits` decimals (rounded half away from zero).
  public static func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return "\(value)" }
    let whole = UInt64(scaled)
    let factor = UInt64(scale)
    var text = "\(whole / factor)"
    if digits > 0 {
      let fraction = String(whole % factor)
      text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return value < 0 && whole != 0 ? "-" + text : text
  }

  /// Up to 3 decimals, trailing zeroes dropped: 10 -> "10", 2.5 -> "2.5".
  public static func trimmed(_ value: Double) -> String {
    var text = fixed(value, 3)
    while text.contains("."), text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
  }

  /// 1234567 -> "1.23M", 245300 -> "245.3k".
  public static func count(_ value: Double) -> String {
    switch value {
    case 1e6...: return fixed(value / 1e6, 2) + "M"
    case 1e3...: return fixed(value / 1e3, 1) + "k"
    default: return fixed(value, 0)
    }
  }

  public static func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

  /// Left-aligned in `width` columns.
  public static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }

  /// A JSON string literal.
  static func jsonString(_ text: String) -> String { JSONValue.quoted(text) }
}
