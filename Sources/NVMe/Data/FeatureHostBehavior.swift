/// Host Behavior Support (FID 16h): a 512-byte data structure. ACRE (byte 0)
/// lets the host accept Command Retry Delay; ETDAS (byte 1) and LBAFEE (byte 2)
/// are NVMe 2.0 opt-ins. Each is a 0/1 flag; other values are Invalid Field.
public struct HostBehaviorSupport: Sendable, Hashable {
  public static let size = 512

  public var advancedCommandRetryEnable: Bool = false
  public var extendedTelemetryDataAreaSelect: Bool = false
  public var lbaFormatExtensionEnable: Bool = false

  public init() {}

  /// Decodes Set Features data; nil when short or a flag byte is not 0 or 1.
  public init?(data: [UInt8]) {
    guard data.count >= Self.size else { return nil }
    let flags = data[0..<3]
    guard flags.allSatisfy({ $0 <= 1 }) else { return nil }
    advancedCommandRetryEnable = data[0] == 1
    extendedTelemetryDataAreaSelect = data[1] == 1
    lbaFormatExtensionEnable = data[2] == 1
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(advancedCommandRetryEnable ? UInt8(1) : 0, at: 0)
    page.put(extendedTelemetryDataAreaSelect ? UInt8(1) : 0, at: 1)
    page.put(lbaFormatExtensionEnable ? UInt8(1) : 0, at: 2)
    return page.bytes
  }
}
