import CShims
import Logging

/// Shadow doorbells and EventIdx (Doorbell Buffer Config, admin 7Ch; OACS
/// bit 8). A host that sets them writes every new SQ tail and CQ head into
/// the shadow buffer, and rings the real doorbell only when the value passes
/// the event index the controller left (`EventIndex.needsEvent`). The
/// controller reads shadowed queues' doorbells from the shadow buffer, moves
/// EventIdx only just before the reactor sleeps (`armDoorbellEvents`), and so
/// hears a real doorbell (a trapped write that wakes it) once after each
/// sleep and about once per ring wrap while busy. Linux uses the buffers for
/// I/O queues only, and so does this controller: the admin queue always
/// rings the real doorbell.
extension NVMeController {
  /// Doorbell Buffer Config: PRP1 is the Shadow Doorbell buffer, PRP2 the
  /// EventIdx buffer, each one memory page (CC.MPS), page aligned, distinct,
  /// and inside writable guest memory the server maps; otherwise Invalid
  /// Field in Command (as QEMU's NVMe model answers a misaligned one). I/O
  /// queues that exist already switch over at once.
  func doorbellBufferConfig(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let page = UInt64(cc.pageSize)
    let shadowAddress = sqe.prp1
    let eventAddress = sqe.prp2
    // Two page-aligned one-page buffers overlap exactly when they are equal.
    guard shadowAddress & (page &- 1) == 0, eventAddress & (page &- 1) == 0,
      shadowAddress != eventAddress, let memory
    else { throw .invalidField }
    let byteCount = min(session.submissionQueues.count &* 8, Int(page))
    var buffers = ShadowDoorbells(
      doorbellAddress: shadowAddress, eventIndexAddress: eventAddress, byteCount: byteCount)
    guard buffers.resolve(memory) != nil else { throw .invalidField }
    session.shadowDoorbells = buffers
    logger.info(
      "shadow doorbells configured: buffer 0x\(String(shadowAddress, radix: 16)), EventIdx 0x\(String(eventAddress, radix: 16))"
    )
    // The shadow slots start at what the controller last saw, so a stale
    // value in the host's buffer is not taken for a doorbell write (QEMU's
    // model does the same). Linux sends 7Ch after creating its I/O queues, so
    // this is where they switch over: logged per queue, as at creation.
    for qid in session.activeSubmissionIDs where qid != 0 {
      guard let sq = session.submissionQueues[qid] else { continue }
      sq.shadowed = startShadowing(slot: DoorbellPage.submissionTail(qid), at: UInt32(sq.tail))
      logger.info(
        "I/O submission queue \(qid): switched over, doorbell \(sq.shadowed ? "shadowed" : "real")"
      )
    }
    for qid in session.activeCompletionIDs where qid != 0 {
      guard let cq = session.completionQueues[qid] else { continue }
      cq.shadowed = startShadowing(slot: DoorbellPage.completionHead(qid), at: UInt32(cq.head))
    }
    return 0
  }

  /// Puts `value` into the shadow and EventIdx slots of an I/O queue that is
  /// starting to use them; false when there are no buffers or the slot is
  /// outside them (the queue keeps the real doorbell).
  func startShadowing(slot: Int, at value: UInt32) -> Bool {
    guard slot >= 2, let memory, let view = session.shadowDoorbells?.resolve(memory),
      slot < view.slots
    else { return false }
    view.storeDoorbell(slot, value)
    view.setEventIndex(slot, value)
    return true
  }

  /// The host's latest value for doorbell `slot`: the shadow buffer's for a
  /// shadowed queue, else the doorbell page's. Nil when the shadow buffer is
  /// no longer in guest memory; the controller is then fatal.
  @inline(__always)
  func doorbellValue(_ slot: Int, shadowed: Bool, memory: any GuestMemory) -> UInt32? {
    guard shadowed else { return doorbells.load(slot) }
    guard let view = session.shadowDoorbells?.resolve(memory) else {
      fail("shadow doorbell buffer is not in guest memory")
      return nil
    }
    return view.doorbell(slot)
  }

  /// The host wrote a bad value: report it and put the last good value back
  /// (in the shadow buffer too, for a shadowed queue) so the next turn does
  /// not report it again.
  func invalidDoorbell(slot: Int, value: UInt32, restore: UInt32, shadowed: Bool) {
    logger.warning(
      "invalid doorbell value \(value) at slot \(slot)\(shadowed ? " (shadow buffer)" : "")")
    if shadowed, let memory, let view = session.shadowDoorbells?.resolve(memory) {
      view.storeDoorbell(slot, restore)
    } else {
      doorbells.store(slot, restore)
    }
    raise(.invalidDoorbellValue)
  }

  /// Whether every queue could wake a sleeping server once its doorbells are
  /// trapped: the host has set EventIdx for each shadowed queue at the value
  /// last seen (and for a shadowed CQ whose completions wait for room), then
  /// the shadow values are read again. False when one moved meanwhile: there
  /// is work, so do not sleep. The full fence pairs with the host's between
  /// its shadow write and its EventIdx read (Linux: `mb()` in
  /// `nvme_dbbuf_update_and_check_event`): either the host sees the new
  /// event index and rings, or this sees the new value.
  public func armDoorbellEvents() -> Bool {
    guard session.shadowDoorbells != nil, lifecycle.serves, let memory,
      let view = session.shadowDoorbells?.resolve(memory)
    else { return true }
    eventIndexArmings &+= 1
    for qid in session.activeSubmissionIDs {
      guard let sq = session.submissionQueues[qid], sq.shadowed else { continue }
      view.setEventIndex(DoorbellPage.submissionTail(qid), UInt32(sq.tail))
    }
    for qid in session.activeCompletionIDs {
      guard let cq = session.completionQueues[qid], cq.shadowed, !cq.backlog.isEmpty else {
        continue
      }
      view.setEventIndex(DoorbellPage.completionHead(qid), UInt32(cq.head))
    }
    cshim_fence_seq_cst()
    for qid in session.activeSubmissionIDs {
      guard let sq = session.submissionQueues[qid], sq.shadowed else { continue }
      if view.doorbell(DoorbellPage.submissionTail(qid)) != UInt32(sq.tail) { return false }
    }
    for qid in session.activeCompletionIDs {
      guard let cq = session.completionQueues[qid], cq.shadowed, !cq.backlog.isEmpty else {
        continue
      }
      if view.doorbell(DoorbellPage.completionHead(qid)) != UInt32(cq.head) { return false }
    }
    return true
  }

  /// Queue IDs whose doorbells come from the shadow buffer, for statistics
  /// (and for tests that show a guest really uses it).
  public var shadowedQueueIDs: [Int] {
    session.activeSubmissionIDs.filter { session.submissionQueues[$0]?.shadowed == true }
  }

  /// The buffers' guest addresses, when the host configured them.
  public var shadowDoorbellAddresses: (doorbells: UInt64, eventIndexes: UInt64)? {
    session.shadowDoorbells.map { ($0.doorbellAddress, $0.eventIndexAddress) }
  }
}
