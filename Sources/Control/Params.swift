/// Typed access to a request's named parameters; every mistake is an
/// Invalid params error that names the parameter.
public struct Params: Sendable {
  public let values: [String: JSONValue]

  public init(_ values: [String: JSONValue]) { self.values = values }

  /// Refuses parameters the method does not take (a typo must not be ignored).
  public func allowOnly(_ names: Set<String>) throws(JSONRPC.ErrorObject) {
    let unknown = Set(values.keys).subtracting(names)
    guard unknown.isEmpty else {
      let allowed = names.isEmpty ? "none" : names.sorted().joined(separator: ", ")
      throw .invalidParams(
        "unknown parameter(s) \(unknown.sorted().joined(separator: ", ")); this method takes: \(allowed)"
      )
    }
  }

  public func unsigned(_ name: String) throws(JSONRPC.ErrorObject) -> UInt64? {
    guard let value = values[name], value != .null else { return nil }
    guard let number = value.unsignedValue else {
      throw .invalidParams("\(name) must be a non-negative integer, not \(value.typeName)")
    }
    return number
  }

  public func requiredUnsigned(_ name: String) throws(JSONRPC.ErrorObject) -> UInt64 {
    guard let number = try unsigned(name) else { throw .invalidParams("\(name) is required") }
    return number
  }

  /// An NSID: a required integer in 1...0xFFFF_FFFE.
  public func nsid(_ name: String = "nsid") throws(JSONRPC.ErrorObject) -> UInt32 {
    let number = try requiredUnsigned(name)
    guard number >= 1, number < 0xFFFF_FFFF else {
      throw .invalidParams("\(name) must be 1 to 4294967294, not \(number)")
    }
    return UInt32(number)
  }

  public func string(_ name: String) throws(JSONRPC.ErrorObject) -> String? {
    guard let value = values[name], value != .null else { return nil }
    guard let text = value.stringValue else {
      throw .invalidParams("\(name) must be a string, not \(value.typeName)")
    }
    return text
  }

  public func requiredString(_ name: String) throws(JSONRPC.ErrorObject) -> String {
    guard let text = try string(name) else { throw .invalidParams("\(name) is required") }
    return text
  }

  public func bool(_ name: String) throws(JSONRPC.ErrorObject) -> Bool? {
    guard let value = values[name], value != .null else { return nil }
    guard let flag = value.boolValue else {
      throw .invalidParams("\(name) must be true or false, not \(value.typeName)")
    }
    return flag
  }

  /// A size in bytes: an integer, or a string with a K/M/G/T suffix (powers of 1024).
  public func size(_ name: String) throws(JSONRPC.ErrorObject) -> UInt64? {
    guard let value = values[name], value != .null else { return nil }
    if let number = value.unsignedValue { return number }
    guard let text = value.stringValue, let bytes = Self.parseSize(text) else {
      throw .invalidParams(
        "\(name) must be a byte count or a size such as \"10G\", not \(value.serialized())")
    }
    return bytes
  }

  /// "4096", "512K", "10G", "1T" (powers of 1024); nil for anything else or on overflow.
  public static func parseSize(_ text: String) -> UInt64? {
    var digits = Substring(text)
    var shift: UInt64 = 0
    if let last = digits.last?.uppercased() {
      switch last {
      case "K": shift = 10
      case "M": shift = 20
      case "G": shift = 30
      case "T": shift = 40
      default: break
      }
      if shift > 0 { digits = digits.dropLast() }
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = UInt64(digits) else {
      return nil
    }
    let (result, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
    return overflow ? nil : result
  }
}
