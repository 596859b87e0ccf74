import BlockIO
import Testing

@testable import NVMe

/// Doorbell Buffer Config (admin 7Ch): shadow doorbells and EventIdx.
@Suite struct ControllerShadowDoorbellTests {
  typealias H = ControllerHarness

  /// Two pages near the top of the harness's RAM, away from rings and data.
  static let shadowPage = H.ramBase + UInt64(H.ramSize) - 0x4000
  static let eventPage = H.ramBase + UInt64(H.ramSize) - 0x2000

  func flush() -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: NVMOpcode.flush.rawValue, commandIdentifier: 0, namespaceIdentifier: 1)
  }

  func configure(_ harness: H, shadow: UInt64 = shadowPage, events: UInt64 = eventPage)
    -> NVMeStatus?
  {
    harness.admin(.doorbellBufferConfig, prp1: shadow, prp2: events)?.status
  }

  /// Configures the buffers and makes the harness's host use them.
  func shadowed(_ harness: H) throws {
    try #require(configure(harness) == .success)
    harness.shadowBuffers = (Self.shadowPage, Self.eventPage)
  }

  func slot(_ page: UInt64, _ index: Int) -> UInt64 { page + UInt64(index * 4) }

  @Test func offeredInIdentifyAndTheEffectsLog() throws {
    let harness = try H.ready()
    let (status, page) = harness.identify(cns: 1)
    #expect(status == .success)
    let oacs = UInt16(page[256]) | UInt16(page[257]) << 8
    #expect(oacs & ControllerIdentity.OACS.doorbellBufferConfig != 0)
    #expect(NVMeController.commandEffects.admin[AdminOpcode.doorbellBufferConfig.rawValue] != nil)
  }

  static let badBuffers: [(UInt64, UInt64)] = [
    (shadowPage + 0x200, eventPage),  // PRP1 not page aligned
    (shadowPage, eventPage + 4),  // PRP2 not page aligned
    (shadowPage, shadowPage),  // the same page twice
    (0x7000_0000, eventPage),  // outside guest memory
    (shadowPage, 0xFFFF_FFFF_FFFF_F000),  // outside, at the top of the address space
  ]

  @Test(arguments: badBuffers)
  func badBuffersAreInvalidField(shadow: UInt64, events: UInt64) throws {
    let harness = try H.ready()
    #expect(configure(harness, shadow: shadow, events: events) == .invalidField)
    #expect(harness.controller.shadowDoorbellAddresses == nil)
    #expect(harness.controller.shadowedQueueIDs.isEmpty)
    // The controller keeps serving through the real doorbells.
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
  }

  @Test func descriptorlessMemoryIsRefused() throws {
    let harness = try H.ready(translation: false)
    #expect(configure(harness) == .invalidField)
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
  }

  @Test func ioQueuesReadTheShadowAndTheAdminQueueDoesNot() throws {
    let harness = try H.ready()
    // An existing queue switches over; its shadow slot starts at its tail.
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
    try shadowed(harness)
    #expect(harness.memory.peek32(slot(Self.shadowPage, 2)) == 1)
    #expect(harness.createIOQueuePair(2))
    #expect(harness.controller.shadowedQueueIDs == [1, 2])
    // Queue 1's new tail only in the shadow: seen, though the page has the old one.
    let writesBefore = harness.realDoorbellWrites
    for _ in 0..<5 { #expect(harness.execute(flush(), queue: 1)?.status == .success) }
    #expect(harness.memory.peek32(slot(Self.shadowPage, 2)) == 6)
    // EventIdx was left at 1 for the SQ tail and the CQ head, so only the
    // first of the five crossed each: two real doorbells, not ten.
    #expect(harness.realDoorbellWrites - writesBefore == 2)
    #expect(harness.doorbellPage.load(fromByteOffset: 8, as: UInt32.self) == 2)
    // The admin queue still rings the page, never the shadow slot 0.
    #expect(harness.admin(.getFeatures, cdw10: 0x07)?.status == .success)
    #expect(harness.memory.peek32(slot(Self.shadowPage, 0)) == 0)
  }

  @Test func aValueOnlyInThePageIsIgnoredForAShadowedQueue() throws {
    let harness = try H.ready()
    try shadowed(harness)
    harness.controller.poll()  // takes the admin CQ head the host just rang
    // A stray tail in the doorbell page (not the shadow) fetches nothing.
    harness.doorbellPage.storeBytes(of: UInt32(3), toByteOffset: 8, as: UInt32.self)
    #expect(harness.controller.poll() == 0)
    #expect(harness.controller.commandsInFlight == 0)
  }

  @Test func busyQueueRingsTheRealDoorbellAboutOncePerWrap() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2, entries: 8))
    try shadowed(harness)
    let before = harness.realDoorbellWrites
    // 40 commands through an 8-entry ring, never armed: the host crosses the
    // event index left at 0 once per lap (5 laps), for SQ tail and CQ head.
    for index in 0..<40 {
      #expect(harness.execute(flush(), queue: 2)?.status == .success, "command \(index)")
    }
    let rings = harness.realDoorbellWrites - before
    #expect(rings >= 5 && rings <= 12, "real doorbell writes: \(rings)")
  }

  @Test func armingAsksForTheNextSubmissionIncludingAtTheRingsEnd() throws {
    let harness = try H.ready()
    #expect(harness.createIOQueuePair(2, entries: 8))
    try shadowed(harness)
    for _ in 0..<7 { #expect(harness.execute(flush(), queue: 2)?.status == .success) }
    // Tail 7: the last slot. Arm, as the reactor does before it sleeps.
    #expect(harness.controller.armDoorbellEvents())
    #expect(harness.memory.peek32(slot(Self.eventPage, 4)) == 7)
    let before = harness.realDoorbellWrites
    // 7 -> 0 wraps the ring and passes the event index: a real doorbell.
    harness.push(flush(), queue: 2)
    #expect(harness.realDoorbellWrites == before + 1)
    #expect(harness.doorbellPage.load(fromByteOffset: 16, as: UInt32.self) == 0)
    #expect(harness.controller.poll() > 0)
  }

  @Test func armingSeesATailThatMovedAndRefusesToSleep() throws {
    let harness = try H.ready()
    try shadowed(harness)
    #expect(harness.controller.armDoorbellEvents())
    // The host wrote a new tail to the shadow after the last look.
    harness.memory.poke32(slot(Self.shadowPage, 2), 1)
    #expect(!harness.controller.armDoorbellEvents())
    #expect(harness.controller.poll() > 0)
    #expect(harness.controller.armDoorbellEvents())
  }

  @Test func shadowTailPastTheQueueIsAnInvalidDoorbellValue() throws {
    let harness = try H.ready()
    try shadowed(harness)
    harness.parkAERs(1)
    harness.memory.poke32(slot(Self.shadowPage, 2), 4000)
    harness.controller.poll()
    let events = harness.takeEvents()
    #expect(events.count == 1)
    #expect(events.first?.dw0 == 0x0001_0100)
    // The last good value is put back, so it is reported once.
    #expect(harness.memory.peek32(slot(Self.shadowPage, 2)) == 0)
    harness.controller.poll()
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
  }

  @Test func resetForgetsTheBuffers() throws {
    let harness = try H.ready()
    try shadowed(harness)
    #expect(harness.controller.shadowDoorbellAddresses != nil)
    harness.write32(RegisterOffset.cc, 0)
    harness.controller.poll()
    harness.shadowBuffers = nil
    harness.enable()
    harness.controller.poll()
    #expect(harness.createIOQueuePair(1))
    #expect(harness.controller.shadowDoorbellAddresses == nil)
    #expect(harness.controller.shadowedQueueIDs.isEmpty)
    #expect(harness.controller.armDoorbellEvents())
    #expect(harness.execute(flush(), queue: 1)?.status == .success)
  }

  @Test func buffersThatLeaveGuestMemorySetFatalStatus() throws {
    let harness = try H.ready()
    try shadowed(harness)
    harness.memory.allowsTranslation = false
    harness.controller.memoryDidChange()
    harness.controller.poll()
    #expect(harness.csts & 0b10 != 0)
  }

  @Test func hostEventIndexRule() {
    typealias E = EventIndex
    #expect(E.needsEvent(eventIndex: 5, new: 6, old: 5))
    #expect(!E.needsEvent(eventIndex: 5, new: 5, old: 4))
    #expect(E.needsEvent(eventIndex: 5, new: 9, old: 2))
    #expect(!E.needsEvent(eventIndex: 1, new: 9, old: 2))
    // Ring indices wrap at the queue size, not at 2^16.
    #expect(E.needsEvent(eventIndex: 7, new: 0, old: 7))
    #expect(E.needsEvent(eventIndex: 0, new: 1, old: 7))
    #expect(!E.needsEvent(eventIndex: 3, new: 1, old: 7))
    #expect(E.needsEvent(eventIndex: 0xFFFF, new: 0, old: 0xFFFF))
  }
}
