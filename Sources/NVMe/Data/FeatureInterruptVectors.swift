/// Interrupt Vector Configuration (FID 09h): per vector, the Coalescing Disable
/// (CD) bit. CDW11: IV in 15:0, CD in bit 16; Get echoes the same layout.
///
/// Vector 0 is the admin completion queue's, and coalescing is not supported
/// for that queue: the controller never delays vector 0 (even for an I/O
/// queue that shares it), so Get reports CD set there whatever was Set, as
/// QEMU's model does.
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
    return UInt32(vector) | (isCoalescingDisabled(vector: vector) ? 1 << 16 : 0)
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
    vector == 0 || coalescingDisabled.contains(vector)
  }
}
