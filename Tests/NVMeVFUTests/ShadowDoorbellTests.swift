import Testing
import VFIOUserClient

@testable import NVMeHostDriver

/// The EventIdx decision and the host's half of the shadow doorbell
/// protocol, without a controller: pure functions and local pages.
@Suite struct ShadowDoorbellTests {
  /// Whether `event` lies in the window [old, new) of a ring of `size`
  /// entries, walked the long way: the meaning `needsRing` must have.
  static func inWindow(event: Int, old: Int, new: Int, size: Int) -> Bool {
    var index = old
    while index != new {
      if index == event { return true }
      index = (index + 1) % size
    }
    return false
  }

  @Test func ringsWhenTheEventIndexIsInsideTheWindow() {
    // The controller saw tail 5 and went to sleep: the move to 6 passes it.
    #expect(ShadowDoorbell.needsRing(new: 6, old: 5, eventIndex: 5))
    // A batch 5 -> 10: any EventIdx from 5 to 9 was passed.
    for event in UInt16(5)...9 {
      #expect(ShadowDoorbell.needsRing(new: 10, old: 5, eventIndex: event), "event \(event)")
    }
  }

  @Test func noRingWhenTheEventIndexIsOutsideTheWindow() {
    // Not reached yet (the new value itself is not passed), or left behind
    // by a busy controller.
    #expect(!ShadowDoorbell.needsRing(new: 6, old: 5, eventIndex: 6))
    #expect(!ShadowDoorbell.needsRing(new: 10, old: 5, eventIndex: 4))
    #expect(!ShadowDoorbell.needsRing(new: 10, old: 5, eventIndex: 11))
    #expect(!ShadowDoorbell.needsRing(new: 10, old: 5, eventIndex: 0))
    // A value that did not move never rings.
    for event in [0, 5, 6, 0xFFFF] as [UInt16] {
      #expect(!ShadowDoorbell.needsRing(new: 5, old: 5, eventIndex: event))
    }
  }

  /// Free-running 16-bit values wrapping past 65535: 65534 -> 2 passes
  /// 65534, 65535, 0 and 1, and nothing else.
  @Test func wrapsAtSixteenBits() {
    for event in [65534, 65535, 0, 1] as [UInt16] {
      #expect(ShadowDoorbell.needsRing(new: 2, old: 65534, eventIndex: event), "event \(event)")
    }
    for event in [2, 3, 100, 65533] as [UInt16] {
      #expect(!ShadowDoorbell.needsRing(new: 2, old: 65534, eventIndex: event), "event \(event)")
    }
  }

  /// NVMe tails and heads wrap at the ring's size, not at 65536: every
  /// (old, new, EventIdx) of small rings against the window walked entry by
  /// entry.
  @Test(arguments: [2, 3, 8, 33])
  func exactAtTheEndOfTheRing(size: Int) {
    for old in 0..<size {
      for new in 0..<size {
        for event in 0..<size {
          let expected = Self.inWindow(event: event, old: old, new: new, size: size)
          let got = ShadowDoorbell.needsRing(
            new: UInt16(new), old: UInt16(old), eventIndex: UInt16(event))
          #expect(got == expected, "size \(size): \(old) -> \(new), event \(event)")
        }
      }
    }
  }

  /// The host's steps on a pair of local pages: the shadow always holds the
  /// latest value, and a ring is owed exactly when EventIdx was passed.
  @Test func queueDoorbellWritesTheShadowAndRingsOnlyWhenAsked() throws {
    let local = LocalPages()
    defer { local.release() }
    let pages = local.pages
    let slot = 2 * 3  // SQ 3 tail
    let pointers = try #require(pages.pointers(slot: slot))
    var doorbell = QueueDoorbell(slot: slot, pages: pages)
    #expect(doorbell.usesShadow)

    // EventIdx 0 from a fresh page: the first submission rings.
    var rang = doorbell.publish(1)
    #expect(rang)
    #expect(pointers.shadow.pointee == 1)
    // The controller is busy and leaves EventIdx behind: no rings.
    for tail in UInt32(2)...7 {
      rang = doorbell.publish(tail)
      #expect(!rang, "tail \(tail)")
      #expect(pointers.shadow.pointee == tail)
    }
    // It goes to sleep at tail 7: the next move rings, the ones after do not.
    pointers.eventIndex.pointee = 7
    rang = doorbell.publish(9)
    #expect(rang)
    rang = doorbell.publish(10)
    #expect(!rang)
    // Across the end of an 11-entry ring: 10 -> 2 passes 10, 0 and 1.
    pointers.eventIndex.pointee = 0
    rang = doorbell.publish(2)
    #expect(rang)
    #expect(doorbell.rings == 3)
    // Other slots are untouched.
    #expect(try #require(pages.pointers(slot: slot + 1)).shadow.pointee == 0)
  }

  @Test func withoutPagesEveryPublicationRings() {
    var doorbell = QueueDoorbell(slot: 3, pages: nil)
    #expect(!doorbell.usesShadow)
    for head in UInt32(1)...5 {
      let rang = doorbell.publish(head)
      #expect(rang)
    }
    #expect(doorbell.rings == 5)
  }

  @Test func slotsPastThePageHaveNoShadow() {
    let local = LocalPages()
    defer { local.release() }
    #expect(local.pages.pointers(slot: 1023) != nil)
    #expect(local.pages.pointers(slot: 1024) == nil)
    #expect(local.pages.pointers(slot: -1) == nil)
    #expect(!QueueDoorbell(slot: 1024, pages: local.pages).usesShadow)
  }

  @Test func clearingAQueueZeroesItsFourDwordsOnly() throws {
    let local = LocalPages()
    defer { local.release() }
    let pages = local.pages
    for slot in 0..<8 {
      let pointers = try #require(pages.pointers(slot: slot))
      pointers.shadow.pointee = UInt32(100 + slot)
      pointers.eventIndex.pointee = UInt32(200 + slot)
    }
    pages.clear(queue: 2)
    for slot in 0..<8 {
      let pointers = try #require(pages.pointers(slot: slot))
      let cleared = slot == 4 || slot == 5
      #expect(pointers.shadow.pointee == (cleared ? 0 : UInt32(100 + slot)), "slot \(slot)")
      #expect(pointers.eventIndex.pointee == (cleared ? 0 : UInt32(200 + slot)), "slot \(slot)")
    }
  }
}

/// Two pages of this process's memory standing in for guest RAM.
private struct LocalPages {
  let shadow = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
  let eventIndex = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)

  var pages: ShadowDoorbellPages {
    ShadowDoorbellPages(
      shadow: GuestBuffer(address: 0x1000, bytes: shadow),
      eventIndex: GuestBuffer(address: 0x2000, bytes: eventIndex), stride: 4)
  }

  init() {
    shadow.initializeMemory(as: UInt8.self, repeating: 0)
    eventIndex.initializeMemory(as: UInt8.self, repeating: 0)
  }

  func release() {
    shadow.deallocate()
    eventIndex.deallocate()
  }
}
