// Re-entrancy. Where guest memory is not shared as descriptors, fetching an SQE or
// posting a CQE is a DMA_READ/DMA_WRITE message exchange, and while the controller
// waits for the reply the transport serves the client's other messages, which call
// back into the controller in the middle of a turn. What such a message may do:
// - write a register: doorbells are recorded and seen by the next look; CC is
//   deferred to the end of the turn (`deferredConfigurationWrites`), so enable,
//   disable and shutdown never run inside one;
// - unmap or map DMA (`memoryWillChange`/`memoryDidChange`): backends drain and ring
//   translations go, so the access in progress fails like any access outside memory;
// - reset the device: a new `ControllerSession` replaces the queues while the
//   exchange waits, so the turn re-checks `stillServes` after each fetch and never
//   keeps a queue across one; completions of the commands the reset drains go nowhere
//   (`ControllerLifecycle.resetting`).
// Nothing else may run inside a turn; the fuzzers (nvme-commands) and
// ControllerReentrancyTests exercise each of these.
extension NVMeController {
  /// Commands fetched from one submission queue per turn, so one busy queue
  /// cannot starve the others (round-robin arbitration, burst unlimited in
  /// spirit but bounded per turn).
  static let fetchBudgetPerQueue = 128

  /// One reactor turn: doorbells, new commands, one submit per backend,
  /// completions, interrupts. Returns how much work was found (0 = idle), so
  /// the reactor can decide whether to keep spinning.
  @discardableResult
  public func poll() -> Int {
    deferredConfigurationWrites = []
    var work = 0
    if lifecycle.shutdownDue { shutdown() }
    if lifecycle.serves, memory != nil {
      work &+= pollCompletionHeads()
      work &+= pollSubmissionQueues()
    }
    if selfTest != nil { work &+= advanceSelfTest() }
    submitBackends()
    work &+= reapBackends()
    raisePendingInterrupts()
    trackBusyTime()
    applyDeferredConfigurationWrites()
    return work
  }

  /// The turn is over: CC writes that came during it take effect, in order.
  private func applyDeferredConfigurationWrites() {
    let writes = deferredConfigurationWrites ?? []
    deferredConfigurationWrites = nil
    for value in writes { writeControllerConfiguration(value) }
  }

  /// CQ head doorbells: a new head frees slots for the backlog. A head past
  /// the queue or beyond what was posted is an invalid doorbell value.
  func pollCompletionHeads() -> Int {
    var work = 0
    guard let memory else { return 0 }
    let session = self.session
    for qid in session.activeCompletionIDs {
      guard let cq = session.completionQueues[qid] else { continue }
      let slot = DoorbellPage.completionHead(qid)
      guard let value = doorbellValue(slot, shadowed: cq.shadowed, memory: memory) else { break }
      let head = Int(value)
      guard head != cq.head else { continue }
      let advance = (head &- cq.head &+ cq.size) % cq.size
      guard value < UInt32(cq.size), advance <= cq.occupied else {
        invalidDoorbell(slot: slot, value: value, restore: UInt32(cq.head), shadowed: cq.shadowed)
        continue
      }
      cq.head = head
      work &+= 1
      flushBacklog(cq)
    }
    return work
  }

  func pollSubmissionQueues() -> Int {
    guard let memory else { return 0 }
    // The session this turn serves; see `stillServes`.
    let session = self.session
    var work = 0
    var step = 0
    session.qosWakeAt = nil
    // Under QoS limits the I/O queue served first is the one after the queue
    // that last got tokens, so queues sharing a namespace's limit alternate.
    var start = 0
    if qosLimited, let last = session.qosLastServed {
      start = session.activeSubmissionIDs.firstIndex(of: last) ?? 0
    }
    // Indexes, not a copy of the list: commands (Delete SQ) may change it.
    while step < session.activeSubmissionIDs.count {
      let qid = session.activeSubmissionIDs[
        Self.rotated(step, count: session.activeSubmissionIDs.count, start: start)]
      step &+= 1
      guard let sq = session.submissionQueues[qid] else { continue }
      let slot = DoorbellPage.submissionTail(qid)
      guard let value = doorbellValue(slot, shadowed: sq.shadowed, memory: memory) else { break }
      if Int(value) != sq.tail {
        guard value < UInt32(sq.size) else {
          invalidDoorbell(slot: slot, value: value, restore: UInt32(sq.tail), shadowed: sq.shadowed)
          continue
        }
        sq.tail = Int(value)
      }
      var budget = Self.fetchBudgetPerQueue
      while !sq.isEmpty, budget > 0, stillServes(session) {
        let entry: SubmissionQueueEntry
        if let held = sq.held {
          // Fetched once already: never read guest memory for it again.
          entry = held
        } else {
          guard let fetched = sq.fetch(sq.head, memory: memory) else {
            fail("submission queue \(qid) entry \(sq.head) is not in guest memory")
            break
          }
          // A fetch by DMA message lets the client in meanwhile: a device
          // reset may have taken the queue away. Its command goes with it.
          guard stillServes(session) else { return work }
          entry = fetched
        }
        // One branch when no namespace has limits. A held command stays at
        // the head: the queue's later commands wait behind it, in order.
        if qosLimited, qid != 0, !admitQoS(entry, queue: sq, session: session) {
          break
        }
        sq.held = nil
        budget &-= 1
        sq.head = (sq.head &+ 1) % sq.size
        sq.outstanding &+= 1
        work &+= 1
        if qid == 0 {
          executeAdmin(entry)
        } else {
          executeIO(entry, queue: sq)
        }
      }
    }
    return work
  }

  /// The list position served at `step` of a turn: the admin queue (first,
  /// the list is sorted) stays first; the I/O queues rotate by `start`.
  @inline(__always)
  static func rotated(_ step: Int, count: Int, start: Int) -> Int {
    guard start != 0, step != 0, count > 2 else { return step }
    let io = count &- 1
    return 1 &+ (start % io &+ step &- 1) % io
  }

  /// Whether the controller still serves the queues of `session`, the one
  /// the turn started with. Only two things take a queue away while it is
  /// being fetched from: a failure (CSTS.CFS), and a reset, which replaces
  /// the session (a client message during a fetch's DMA exchange can be a
  /// DEVICE_RESET). A command cannot: admin commands come only from queue 0,
  /// which Delete SQ refuses, and other queues' commands touch no queue.
  @inline(__always)
  private func stillServes(_ session: ControllerSession) -> Bool {
    lifecycle.serves && self.session === session
  }
}
