/// One LBA Format descriptor (NVM Command Set 1.0 Figure 116): a dword with
/// MS (metadata bytes) in 15:0, LBADS (log2 of the data size) in 23:16 and
/// RP (relative performance, 0 = best) in 25:24.
public struct LBAFormat: Sendable, Hashable {
  public var metadataSize: UInt16
  public var dataSizeExponent: UInt8
  public var relativePerformance: UInt8

  public init(metadataSize: UInt16 = 0, dataSizeExponent: UInt8, relativePerformance: UInt8 = 0) {
    self.metadataSize = metadataSize
    self.dataSizeExponent = dataSizeExponent
    self.relativePerformance = relativePerformance
  }

  public static let lba512 = LBAFormat(dataSizeExponent: 9, relativePerformance: 1)
  public static let lba4096 = LBAFormat(dataSizeExponent: 12, relativePerformance: 0)

  /// Bytes per logical block, or nil when the exponent is outside what a real
  /// block device can use (LBADS < 9 is "not supported" per spec).
  public var blockSize: Int? {
    guard dataSizeExponent >= 9, dataSizeExponent < 32 else { return nil }
    return 1 << Int(dataSizeExponent)
  }

  public var dword: UInt32 {
    UInt32(metadataSize) | UInt32(dataSizeExponent) << 16
      | UInt32(relativePerformance & 0x3) << 24
  }
}
