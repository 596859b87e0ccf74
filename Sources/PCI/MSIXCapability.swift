/// Where and how large the function's MSI-X table is.
public struct MSIXDescription: Sendable, Hashable {
  /// Number of vectors, 1...2048.
  public var vectors: Int
  /// BAR index holding both the table and the PBA (a memory BAR).
  public var bar: Int
  /// Byte offset of the table in that BAR; 8-byte aligned.
  public var tableOffset: UInt32
  /// Byte offset of the Pending Bit Array in that BAR; 8-byte aligned.
  public var pbaOffset: UInt32

  public init(vectors: Int, bar: Int, tableOffset: UInt32, pbaOffset: UInt32) {
    self.vectors = vectors
    self.bar = bar
    self.tableOffset = tableOffset
    self.pbaOffset = pbaOffset
  }

  /// 16 bytes per table entry.
  public var tableSize: Int { vectors &* MSIXTable.entrySize }
  /// One pending bit per vector, in whole qwords.
  public var pbaSize: Int { ((vectors &+ 63) / 64) &* 8 }

  var tableRange: Range<UInt64> {
    UInt64(tableOffset)..<(UInt64(tableOffset) &+ UInt64(tableSize))
  }
  var pbaRange: Range<UInt64> {
    UInt64(pbaOffset)..<(UInt64(pbaOffset) &+ UInt64(pbaSize))
  }

  func validate(bars: [BARDescription]) throws(PCIConfigurationError) {
    guard (1...2048).contains(vectors) else { throw .msixVectorCountInvalid(vectors) }
    guard let barDescription = bars.first(where: { $0.index == bar }),
      barDescription.kind != .io
    else { throw .msixBARInvalid(bar: bar) }
    guard tableOffset & 0x7 == 0, pbaOffset & 0x7 == 0 else { throw .msixOffsetMisaligned }
    // Offsets are 32-bit and sizes at most 32 KiB, so the UInt64 sums in
    // tableRange/pbaRange cannot overflow.
    guard tableRange.upperBound <= barDescription.size,
      pbaRange.upperBound <= barDescription.size
    else { throw .msixStructureOutsideBAR }
    guard !tableRange.overlaps(pbaRange) else { throw .msixTableOverlapsPBA }
  }
}

/// The MSI-X capability structure in config space (id 0x11, 12 bytes).
enum MSIXCapability {
  static let id: UInt8 = 0x11
  static let length = 12
  static let messageControl = 0x02
  static let tableOffsetBIR = 0x04
  static let pbaOffsetBIR = 0x08

  static let enableBit: UInt16 = 1 << 15
  static let functionMaskBit: UInt16 = 1 << 14
  /// Table size (N - 1) in bits 10:0 is read-only; only enable and function
  /// mask are the guest's to change.
  static let controlWritable: UInt16 = enableBit | functionMaskBit

  static func install(
    into config: inout ConfigSpace, at offset: Int, next: UInt8, description: MSIXDescription
  ) {
    config.set8(id, at: offset)
    config.set8(next, at: offset &+ 1)
    let tableSizeField = UInt16(truncatingIfNeeded: description.vectors &- 1) & 0x07FF
    config.set16(tableSizeField, at: offset &+ messageControl)  // disabled, unmasked
    config.setMasks(writable: controlWritable, at: offset &+ messageControl)
    let bir = UInt32(truncatingIfNeeded: description.bar) & 0x7
    config.set32(description.tableOffset | bir, at: offset &+ tableOffsetBIR)
    config.set32(description.pbaOffset | bir, at: offset &+ pbaOffsetBIR)
  }

  static func control(in config: ConfigSpace, capability offset: Int) -> UInt16 {
    config.get16(offset &+ messageControl)
  }
}
