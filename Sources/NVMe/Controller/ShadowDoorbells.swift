import CShims

/// The host's Doorbell Buffer Config (admin 7Ch): a Shadow Doorbell buffer
/// the host writes new SQ tails and CQ heads into, and an EventIdx buffer
/// where the controller says at which value it wants the real doorbell rung.
/// Both use the doorbell page's layout (SQ y tail at slot 2y, CQ y head at
/// 2y + 1) and live in guest memory, so every value read is untrusted.
///
/// The host pointers are translated once and cached like a queue's ring;
/// `invalidate()` drops them when DMA mappings change.
struct ShadowDoorbells {
  let doorbellAddress: UInt64
  let eventIndexAddress: UInt64
  /// Bytes of each buffer the controller uses: a slot pair per queue it can
  /// create, at most a page (the host gives one page each).
  let byteCount: Int
  private var view: View?

  init(doorbellAddress: UInt64, eventIndexAddress: UInt64, byteCount: Int) {
    self.doorbellAddress = doorbellAddress
    self.eventIndexAddress = eventIndexAddress
    self.byteCount = byteCount
  }

  mutating func invalidate() { view = nil }

  /// Both buffers as host pointers, translated on first use; nil when either
  /// is not wholly inside one writable, descriptor-backed window. Polling
  /// them through DMA messages every turn would be worse than no shadow.
  mutating func resolve(_ memory: any GuestMemory) -> View? {
    if let view { return view }
    guard
      let doorbells = memory.translate(doorbellAddress, length: byteCount, write: true)?
        .baseAddress,
      let eventIndexes = memory.translate(eventIndexAddress, length: byteCount, write: true)?
        .baseAddress
    else { return nil }
    let resolved = View(
      doorbells: doorbells.bindMemory(to: UInt32.self, capacity: byteCount / 4),
      eventIndexes: eventIndexes.bindMemory(to: UInt32.self, capacity: byteCount / 4),
      slots: byteCount / 4)
    view = resolved
    return resolved
  }

  /// The two buffers as plain pointers: a value the poll loop can hold
  /// without touching the controller's state.
  struct View {
    let doorbells: UnsafeMutablePointer<UInt32>
    let eventIndexes: UnsafeMutablePointer<UInt32>
    let slots: Int

    /// The host's latest value for `slot` (acquire: the queue entries it
    /// wrote before are visible).
    func doorbell(_ slot: Int) -> UInt32 {
      guard slot >= 0, slot < slots else { return 0 }
      return UInt32(littleEndian: cshim_load_acquire_u32(doorbells + slot))
    }

    func storeDoorbell(_ slot: Int, _ value: UInt32) {
      guard slot >= 0, slot < slots else { return }
      cshim_store_release_u32(doorbells + slot, value.littleEndian)
    }

    func eventIndex(_ slot: Int) -> UInt32 {
      guard slot >= 0, slot < slots else { return 0 }
      return UInt32(littleEndian: cshim_load_acquire_u32(eventIndexes + slot))
    }

    func setEventIndex(_ slot: Int, _ value: UInt32) {
      guard slot >= 0, slot < slots else { return }
      cshim_store_release_u32(eventIndexes + slot, value.littleEndian)
    }
  }
}

/// The host's side of EventIdx (NVMe Base 2.0, Doorbell Buffer Config; the
/// rule Linux's `nvme_dbbuf_need_event` applies): after moving a doorbell
/// from `old` to `new`, it rings the real doorbell only when the event index
/// lies in [old, new), all in wrapping 16-bit arithmetic.
public enum EventIndex {
  public static func needsEvent(eventIndex: UInt16, new: UInt16, old: UInt16) -> Bool {
    new &- eventIndex &- 1 < new &- old
  }
}
