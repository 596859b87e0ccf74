/// Timestamp (FID 0Eh): 8 bytes of data. Bytes 5:0 are milliseconds since the
/// epoch (48 bits); byte 6 holds Synch (bit 0) and Timestamp Origin (bits 3:1:
/// 000b counted from reset, 001b set by the host).
///
/// The store keeps the host's value and the monotonic time it was set; callers
/// pass the current monotonic milliseconds so this stays pure and testable.
public struct TimestampFeature: Sendable, Hashable {
  public static let size = 8
  static let mask48: UInt64 = 0xFFFF_FFFF_FFFF

  /// Monotonic milliseconds at the last controller reset.
  public private(set) var resetAt: UInt64
  /// Host timestamp and the monotonic time it was received.
  public private(set) var hostValue: UInt64?
  public private(set) var setAt: UInt64 = 0

  public init(resetAt: UInt64) {
    self.resetAt = resetAt
  }

  /// Set Features data; nil (Invalid Field) when fewer than 8 bytes arrived.
  /// Bytes 7:6 are ignored: the host cannot set Synch or Origin.
  public mutating func set(data: [UInt8], now: UInt64) -> Bool {
    guard data.count >= Self.size, let raw = DataPage.read(UInt64.self, from: data, at: 0)
    else { return false }
    hostValue = raw & Self.mask48
    setAt = now
    return true
  }

  /// The 8-byte Get Features data at monotonic time `now`. The value wraps at
  /// 48 bits like the field; a clock that appears to run backwards counts as 0.
  public func encode(now: UInt64) -> [UInt8] {
    var page = DataPage(size: Self.size)
    let value: UInt64
    let origin: UInt8
    if let hostValue {
      value = (hostValue &+ (now >= setAt ? now - setAt : 0)) & Self.mask48
      origin = 0b001
    } else {
      value = (now >= resetAt ? now - resetAt : 0) & Self.mask48
      origin = 0b000
    }
    page.put(value, at: 0)
    // Synch = 0: our clock does not stop while the controller is running.
    page.put(UInt8(origin << 1), at: 6)
    page.put(UInt8(0), at: 7)
    return page.bytes
  }
}
