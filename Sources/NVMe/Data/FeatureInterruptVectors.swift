/// Interrupt Vector Configuration (FID 09h): per vector, the Coalescing Disable
/// (CD) bit. CDW11: IV in 15:0, CD in bit 16; Get echoes the same layout.
public struct InterruptVectorConfiguration: Sendable, Hashable {
  /// Number of interrupt vectors (MSI-X table size); valid IVs are below it.
  public let vectorCount: Int
  public private(set) var coalescingDisabled: Set<UInt16> = []

  public init(vectorCount: Int) {
    self.vectorCount = max(1, vectorCount)
  }

  /// Dword 0 for the vector CDW11 names, or nil (Invalid Field) if it is not a
  /// vector of this controller.
  public func get(cdw11: UInt32) -> UInt32? {
    let vector = UInt16(truncatingIfNeeded: cdw11)
    guard Int(vector) < vectorCount else { return nil }
    return UInt32(vector) | (coalescingDisabled.contains(vector) ? 1 << 16 : 0)
  }

  /// Set Features: false means Invalid Field.
  public mutating func set(cdw11: UInt32) -> Bool {
    let vector = UInt16(truncatingIfNeeded: cdw11)
    guard Int(vector) < vectorCount else { return false }
    if cdw11 & (1 << 16) != 0 {
      coalescingDisabled.insert(vector)
    } else {
      coalescingDisabled.remove(vector)
    }
    return true
  }

  public func isCoalescingDisabled(vector: UInt16) -> Bool {
    coalescingDisabled.contains(vector)
  }
}
