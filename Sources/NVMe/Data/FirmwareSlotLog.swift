/// Firmware Slot Information log (LID 03h), 512 bytes, Base 2.0 Figure 209.
public struct FirmwareSlotLog: Sendable, Hashable {
  public static let size = 512
  public static let slotCount = 7

  /// Active slot, 1...7 (AFI bits 2:0).
  public var activeSlot: UInt8
  /// Slot activated at the next reset, 0 = not indicated (AFI bits 6:4).
  public var nextResetSlot: UInt8
  /// FRS1...FRS7; nil or an empty string leaves the slot zero (empty).
  public var revisions: [String?]

  public init(firmwareRevision: String, activeSlot: UInt8 = 1, nextResetSlot: UInt8 = 0) {
    self.activeSlot = activeSlot
    self.nextResetSlot = nextResetSlot
    var slots = [String?](repeating: nil, count: Self.slotCount)
    let slot = Int(activeSlot)
    if slot >= 1, slot <= Self.slotCount { slots[slot - 1] = firmwareRevision }
    self.revisions = slots
  }

  public var afi: UInt8 { (activeSlot & 0x7) | (nextResetSlot & 0x7) << 4 }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(afi, at: 0)
    for (index, revision) in revisions.prefix(Self.slotCount).enumerated() {
      guard let revision, !revision.isEmpty else { continue }
      page.putASCII(revision, at: 8 + index * 8, length: 8)
    }
    return page.bytes
  }
}
