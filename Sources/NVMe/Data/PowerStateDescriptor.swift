/// One 32-byte Power State Descriptor (Identify Controller bytes 2048+32*n).
///
/// nvme-cli's `id-ctrl` prints these; a zero max power would read as "0.00W",
/// so power state 0 is always filled with plausible numbers.
public struct PowerStateDescriptor: Sendable, Hashable {
  /// Maximum power in centiwatts when `maxPowerScale` is false (MXPS=0).
  public var maxPower: UInt16
  public var maxPowerScale: Bool
  /// Non-operational state (NOPS): no I/O is processed in this state.
  public var nonOperational: Bool
  /// Entry/exit latency in microseconds (ENLAT/EXLAT).
  public var entryLatency: UInt32
  public var exitLatency: UInt32
  /// Relative throughput/latency ranks (RRT/RRL/RWT/RWL, 5 bits each, 0 = best).
  public var relativeReadThroughput: UInt8
  public var relativeReadLatency: UInt8
  public var relativeWriteThroughput: UInt8
  public var relativeWriteLatency: UInt8
  /// Idle and active power; the scale is 2 bits (01b = 0.0001 W, 10b = 0.01 W).
  public var idlePower: UInt16
  public var idlePowerScale: UInt8
  public var activePower: UInt16
  public var activePowerScale: UInt8

  public static let size = 32

  public init(
    maxPower: UInt16 = 2500, maxPowerScale: Bool = false, nonOperational: Bool = false,
    entryLatency: UInt32 = 10, exitLatency: UInt32 = 10,
    relativeReadThroughput: UInt8 = 0, relativeReadLatency: UInt8 = 0,
    relativeWriteThroughput: UInt8 = 0, relativeWriteLatency: UInt8 = 0,
    idlePower: UInt16 = 0, idlePowerScale: UInt8 = 0,
    activePower: UInt16 = 0, activePowerScale: UInt8 = 0
  ) {
    self.maxPower = maxPower
    self.maxPowerScale = maxPowerScale
    self.nonOperational = nonOperational
    self.entryLatency = entryLatency
    self.exitLatency = exitLatency
    self.relativeReadThroughput = relativeReadThroughput
    self.relativeReadLatency = relativeReadLatency
    self.relativeWriteThroughput = relativeWriteThroughput
    self.relativeWriteLatency = relativeWriteLatency
    self.idlePower = idlePower
    self.idlePowerScale = idlePowerScale
    self.activePower = activePower
    self.activePowerScale = activePowerScale
  }

  /// Writes the descriptor at `offset` of `page` (field layout per Base 2.0, Fig. 276).
  public func write(into page: inout DataPage, at offset: Int) {
    page.put(maxPower, at: offset)
    var flags: UInt8 = 0
    if maxPowerScale { flags |= 1 << 0 }
    if nonOperational { flags |= 1 << 1 }
    page.put(flags, at: offset + 3)
    page.put(entryLatency, at: offset + 4)
    page.put(exitLatency, at: offset + 8)
    page.put(relativeReadThroughput & 0x1F, at: offset + 12)
    page.put(relativeReadLatency & 0x1F, at: offset + 13)
    page.put(relativeWriteThroughput & 0x1F, at: offset + 14)
    page.put(relativeWriteLatency & 0x1F, at: offset + 15)
    page.put(idlePower, at: offset + 16)
    // IPS lives in bits 7:6 of byte 18, APS in bits 7:6 of byte 22.
    page.put(UInt8((idlePowerScale & 0x3) << 6), at: offset + 18)
    page.put(activePower, at: offset + 20)
    page.put(UInt8((activePowerScale & 0x3) << 6), at: offset + 22)
  }
}
