/// Sizes as the command line writes them: `512`, `4k`, `64M`, `1G`, `1GiB`.
/// Units are binary (K = 1024) and case-insensitive; a trailing `B` or `iB`
/// after the unit is accepted, so `64MB` is 64 MiB too.
public enum ByteSize {
  /// The byte count `text` names. Rejects zero, garbage and overflow.
  public static func parse(_ text: String) throws(BlockIOError) -> UInt64 {
    let bytes = Array(text.utf8)
    var value: UInt64 = 0
    var digits = 0
    var overflow = false
    for byte in bytes {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
      overflow = overflow || o1 || o2
      value = sum
      digits &+= 1
    }
    if bytes.first == UInt8(ascii: "-") {
      throw .invalid("size '\(text)'", "must be positive, such as 4K or 1G")
    }
    guard digits > 0, let multiplier = unitMultiplier(bytes[digits...]) else {
      throw .invalid(
        "size '\(text)'", "not a size (expected a number with an optional K, M, G or T suffix)")
    }
    let (total, o3) = value.multipliedReportingOverflow(by: multiplier)
    guard !overflow, !o3 else { throw .invalid("size '\(text)'", "too large") }
    guard total > 0 else { throw .invalid("size '\(text)'", "must not be zero") }
    return total
  }

  /// `suffix` (after the digits) as a multiplier, or nil when it is no unit.
  private static func unitMultiplier(_ suffix: ArraySlice<UInt8>) -> UInt64? {
    let lower = suffix.map { $0 | 0x20 }  // ASCII letters only; others fail below
    guard let first = lower.first else { return 1 }
    let shift: UInt64
    switch first {
    case UInt8(ascii: "b"): return lower.count == 1 ? 1 : nil
    case UInt8(ascii: "k"): shift = 10
    case UInt8(ascii: "m"): shift = 20
    case UInt8(ascii: "g"): shift = 30
    case UInt8(ascii: "t"): shift = 40
    default: return nil
    }
    let rest = Array(lower.dropFirst())
    guard rest.isEmpty || rest == [UInt8(ascii: "b")] || rest == Array("ib".utf8) else {
      return nil
    }
    return 1 << shift
  }

  /// The shortest exact spelling: `64M`, `1G`, `1536K`, `1000`.
  public static func format(_ bytes: UInt64) -> String {
    let units: [(UInt64, String)] = [(40, "T"), (30, "G"), (20, "M"), (10, "K")]
    for (shift, name) in units where bytes != 0 && bytes & ((1 << shift) - 1) == 0 {
      return "\(bytes >> shift)\(name)"
    }
    return "\(bytes)"
  }
}
