import CShims

/// One doorbell of one queue (its SQ tail or its CQ head) as the host
/// publishes it: straight to the controller, or through the shadow doorbell
/// with EventIdx (I/O queues, when Doorbell Buffer Config is in use).
struct QueueDoorbell {
  /// Doorbell slot: SQ y tail is 2y, CQ y head is 2y + 1.
  let slot: Int
  /// Real doorbell writes (MMIO stores or posted messages) so far.
  private(set) var rings: UInt64 = 0
  /// The value last published. The host is the shadow's only writer, so
  /// this is what the shadow holds; kept here so a controller scribbling on
  /// the page cannot talk the host out of a ring it owes.
  private var published: UInt32 = 0
  private let shadow: UnsafeMutablePointer<UInt32>?
  private let eventIndex: UnsafeMutablePointer<UInt32>?

  init(slot: Int, pages: ShadowDoorbellPages?) {
    self.slot = slot
    let pointers = pages?.pointers(slot: slot)
    shadow = pointers?.shadow
    eventIndex = pointers?.eventIndex
  }

  var usesShadow: Bool { shadow != nil }

  /// Records `value` as published (into the shadow, when there is one)
  /// and says whether the real doorbell must be rung with it; each yes is
  /// counted in `rings`.
  @inline(__always)
  mutating func publish(_ value: UInt32) -> Bool {
    let old = published
    published = value
    if let shadow, let eventIndex {
      // Release: the entries written (or, for a head, read) before are
      // ordered before the shadow value.
      cshim_store_release_u32(shadow, value.littleEndian)
      // Store-load: the controller stores EventIdx, then reads the shadow;
      // we store the shadow, then read EventIdx. Without a full fence each
      // side may read the other's old value: the controller sleeps on a
      // tail it never saw, and we skip the ring that would wake it.
      cshim_fence_seq_cst()
      let event = UInt32(littleEndian: cshim_load_acquire_u32(eventIndex))
      guard
        ShadowDoorbell.needsRing(
          new: UInt16(truncatingIfNeeded: value), old: UInt16(truncatingIfNeeded: old),
          eventIndex: UInt16(truncatingIfNeeded: event))
      else { return false }
    }
    rings &+= 1
    return true
  }
}
