/// Number of Queues (FID 07h). All counts are 0-based on the wire: NSQR/NCQR in
/// Set CDW11, NSQA/NCQA in the completion's Dword 0 (submission in 15:0,
/// completion in 31:16).
public struct NumberOfQueues: Sendable, Hashable {
  /// Most I/O submission/completion queues the controller can offer (1-based).
  public let maximum: UInt16
  /// Allocated counts, 0-based (as on the wire).
  public struct Allocation: Sendable, Hashable {
    public var submission: UInt16
    public var completion: UInt16
  }

  /// nil until the host sets the feature.
  public private(set) var allocated: Allocation?

  public init(maximum: UInt16) {
    self.maximum = max(1, maximum)
  }

  /// Before any Set the controller reports what it could allocate: the maximum.
  public var dword0: UInt32 {
    let sq = allocated?.submission ?? (maximum - 1)
    let cq = allocated?.completion ?? (maximum - 1)
    return UInt32(cq) << 16 | UInt32(sq)
  }

  /// Applies Set Features CDW11; returns Dword 0 (the allocation, which may be
  /// less than requested) or nil when NSQR or NCQR is FFFFh (65536 queues),
  /// which the spec makes an Invalid Field. Whether a Set is still allowed (no
  /// I/O queues created since reset) is the command layer's check.
  public mutating func set(cdw11: UInt32) -> UInt32? {
    let nsqr = UInt16(truncatingIfNeeded: cdw11)
    let ncqr = UInt16(truncatingIfNeeded: cdw11 >> 16)
    guard nsqr != 0xFFFF, ncqr != 0xFFFF else { return nil }
    let cap = maximum - 1  // maximum >= 1, so no underflow
    allocated = Allocation(submission: min(nsqr, cap), completion: min(ncqr, cap))
    return dword0
  }
}
