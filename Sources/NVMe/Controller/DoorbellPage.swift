import CShims

/// The doorbell page: 32-bit slots, SQ y tail at index 2y and CQ y head at
/// index 2y + 1 (CAP.DSTRD = 0). The page is shared with the client, which
/// writes it directly through its mmap; the controller only ever reads a slot
/// with an acquire load (the guest's queue writes precede its doorbell write)
/// and clears slots on reset and queue creation.
public struct DoorbellPage: @unchecked Sendable {
  public let base: UnsafeMutablePointer<UInt32>
  /// Number of 32-bit slots.
  public let slots: Int

  public init(base: UnsafeMutableRawPointer, byteCount: Int) {
    self.base = base.bindMemory(to: UInt32.self, capacity: byteCount / 4)
    self.slots = byteCount / 4
  }

  /// Queue pairs the page can address (admin queue included).
  public var queuePairs: Int { slots / 2 }

  @inline(__always)
  public func load(_ index: Int) -> UInt32 {
    guard index >= 0, index < slots else { return 0 }
    return cshim_load_acquire_u32(base + index)
  }

  @inline(__always)
  public func store(_ index: Int, _ value: UInt32) {
    guard index >= 0, index < slots else { return }
    cshim_store_release_u32(base + index, value)
  }

  public func clearAll() {
    for index in 0..<slots { cshim_store_release_u32(base + index, 0) }
  }

  public static func submissionTail(_ qid: Int) -> Int { qid &* 2 }
  public static func completionHead(_ qid: Int) -> Int { qid &* 2 &+ 1 }
}
