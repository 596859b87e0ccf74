import NVMe
import POSIX
import VFIOUser
import VFIOUserClient

/// NVMe Doorbell Buffer Config (admin 7Ch, Identify Controller OACS bit 8):
/// the host writes each I/O queue's SQ tail and CQ head into a shadow
/// doorbell page in its memory, and rings the real doorbell only when the
/// controller asked for it through the EventIdx page. A controller that is
/// busy reads the shadows and never needs a ring; one about to sleep sets
/// EventIdx to what it has seen, and the next move past it rings.
public enum ShadowDoorbell {
  /// Whether moving a doorbell from `old` to `new` passes `eventIndex`,
  /// that is, whether `eventIndex` lies in [old, new): then the controller
  /// wants the real doorbell rung. The rule is NVMe's `EventIndex.needsEvent`
  /// (one rule for both sides: the controller's tests model the host with it).
  ///
  /// Wrapping 16-bit arithmetic (as Linux's `nvme_dbbuf_need_event` and
  /// virtio's `vring_need_event`). It is also exact across the end of a
  /// ring of N entries: with new < old, `new &- old` is 65536 - (old - new),
  /// and the indexes it leaves out are exactly [new, old), the complement of
  /// the window in 0 ..< N.
  @inline(__always)
  public static func needsRing(new: UInt16, old: UInt16, eventIndex: UInt16) -> Bool {
    EventIndex.needsEvent(eventIndex: eventIndex, new: new, old: old)
  }
}

/// The two pages Doorbell Buffer Config names: PRP1 the shadow doorbells,
/// PRP2 the EventIdx values, both laid out as the doorbells are (SQ y tail
/// at 2y, CQ y head at 2y + 1, 4 << CAP.DSTRD bytes apart).
final class ShadowDoorbellPages {
  let shadow: GuestBuffer
  let eventIndex: GuestBuffer
  /// Bytes between doorbells: 4 << CAP.DSTRD.
  let stride: Int

  init(shadow: GuestBuffer, eventIndex: GuestBuffer, stride: Int) {
    self.shadow = shadow
    self.eventIndex = eventIndex
    self.stride = stride
  }

  /// Two zeroed pages of `ram` (page aligned, as 7Ch requires).
  convenience init(ram: GuestRAM, stride: Int) throws(Errno) {
    self.init(
      shadow: try ram.allocatePages(1), eventIndex: try ram.allocatePages(1), stride: stride)
  }

  /// The shadow and EventIdx dwords of doorbell `slot`; nil for a slot past
  /// the page (that queue rings the real doorbell).
  func pointers(slot: Int) -> (
    shadow: UnsafeMutablePointer<UInt32>, eventIndex: UnsafeMutablePointer<UInt32>
  )? {
    let offset = slot.multipliedReportingOverflow(by: stride)
    guard !offset.overflow, offset.partialValue >= 0,
      offset.partialValue <= shadow.count - 4, offset.partialValue <= eventIndex.count - 4,
      let shadowBase = shadow.bytes.baseAddress, let eventBase = eventIndex.bytes.baseAddress
    else { return nil }
    return (
      (shadowBase + offset.partialValue).assumingMemoryBound(to: UInt32.self),
      (eventBase + offset.partialValue).assumingMemoryBound(to: UInt32.self)
    )
  }

  /// Both pages zeroed, as before Doorbell Buffer Config: nothing stale
  /// from a previous enable is taken for a doorbell value.
  func clear() {
    shadow.bytes.initializeMemory(as: UInt8.self, repeating: 0)
    eventIndex.bytes.initializeMemory(as: UInt8.self, repeating: 0)
  }

  /// Queue `id`'s four dwords zeroed, before the queue is created again: a
  /// new queue starts at 0, and the old queue's last tail and EventIdx must
  /// not decide its first ring.
  func clear(queue id: UInt16) {
    for slot in [Int(id) &* 2, Int(id) &* 2 &+ 1] {
      guard let pointers = pointers(slot: slot) else { continue }
      pointers.shadow.pointee = 0
      pointers.eventIndex.pointee = 0
    }
  }
}
