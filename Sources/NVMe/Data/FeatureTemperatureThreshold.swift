/// Temperature Threshold (FID 04h): an over and an under threshold (Kelvin) for
/// the composite temperature (TMPSEL 0) and for each implemented sensor (1...8).
/// CDW11: TMPTH 15:0, TMPSEL 19:16 (Fh = all, Set only), THSEL 21:20 (00b over,
/// 01b under).
public struct TemperatureThresholds: Sendable, Hashable {
  /// Sensors 1...implementedSensors are addressable besides the composite.
  public let implementedSensors: Int
  /// Index 0 = composite, 1...8 = sensors.
  public private(set) var over: [UInt16]
  public private(set) var under: [UInt16]

  /// Defaults per spec: composite over = WCTEMP, sensor over = FFFFh, under = 0.
  public init(warningTemperature: UInt16, implementedSensors: Int = 0) {
    self.implementedSensors = max(0, min(8, implementedSensors))
    over = [warningTemperature] + [UInt16](repeating: 0xFFFF, count: 8)
    under = [UInt16](repeating: 0, count: 9)
  }

  private enum Threshold { case over, under }

  private func decode(_ cdw11: UInt32) -> (sensor: Int, kind: Threshold)? {
    let sensor = Int((cdw11 >> 16) & 0xF)
    let kind: Threshold
    switch (cdw11 >> 20) & 0x3 {
    case 0b00: kind = .over
    case 0b01: kind = .under
    default: return nil
    }
    guard sensor == 0xF || sensor <= implementedSensors else { return nil }
    return (sensor, kind)
  }

  /// Get Features: Dword 0 holds the selected TMPTH, or nil (Invalid Field) for
  /// a reserved THSEL, an unimplemented sensor or TMPSEL = Fh.
  public func get(cdw11: UInt32) -> UInt32? {
    guard let (sensor, kind) = decode(cdw11), sensor != 0xF else { return nil }
    return UInt32(kind == .over ? over[sensor] : under[sensor])
  }

  /// Set Features: false means Invalid Field.
  public mutating func set(cdw11: UInt32) -> Bool {
    guard let (sensor, kind) = decode(cdw11) else { return false }
    let value = UInt16(truncatingIfNeeded: cdw11)
    let targets = sensor == 0xF ? Array(0...implementedSensors) : [sensor]
    for index in targets {
      if kind == .over { over[index] = value } else { under[index] = value }
    }
    return true
  }

  /// True when `kelvin` on the composite sensor crosses either threshold, which
  /// is when the temperature critical-warning bit and its AEN apply.
  public func compositeOutOfRange(_ kelvin: UInt16) -> Bool {
    kelvin > over[0] || kelvin < under[0]
  }
}
