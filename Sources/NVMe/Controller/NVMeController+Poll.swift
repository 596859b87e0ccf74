import BackendContract

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
    polling = true
    var work = 0
    if shutdownPending { shutdown() }
    if csts.ready && !csts.fatal, memory != nil {
      work &+= pollCompletionHeads()
      work &+= pollSubmissionQueues()
    }
    submitBackends()
    work &+= reapBackends()
    raisePendingInterrupts()
    trackBusyTime()
    polling = false
    applyDeferredRegisterWrites()
    return work
  }

  /// Controller Busy Time counts time with a command outstanding in a
  /// backend (an I/O command, in practice). The clock is read only when that
  /// changes; with a coarse clock the short intervals at low queue depth add
  /// up to the right total on average (a tick lands inside an interval with
  /// probability length / tick).
  func trackBusyTime() {
    let busy = inFlight.active > 0
    guard busy != (busySince != nil) else { return }
    let now = clock()
    if let since = busySince {
      busyMilliseconds &+= now &- since
      busySince = nil
    } else {
      busySince = now
    }
  }

  /// Busy milliseconds so far, the open interval included.
  var busyTimeMilliseconds: UInt64 {
    busyMilliseconds &+ (busySince.map { clock() &- $0 } ?? 0)
  }

  func applyDeferredRegisterWrites() {
    while !deferredRegisterWrites.isEmpty {
      let write = deferredRegisterWrites.removeFirst()
      writeDword(write.offset, write.value)
    }
  }

  /// CQ head doorbells: a new head frees slots for the backlog. A head past
  /// the queue or beyond what was posted is an invalid doorbell value.
  func pollCompletionHeads() -> Int {
    var work = 0
    guard let memory else { return 0 }
    for qid in activeCompletionIDs {
      guard let cq = completionQueues[qid] else { continue }
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
    var work = 0
    var index = 0
    // Indexes, not a copy of the list: commands (Delete SQ) may change it.
    while index < activeSubmissionIDs.count {
      let qid = activeSubmissionIDs[index]
      index &+= 1
      guard let sq = submissionQueues[qid] else { continue }
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
      while !sq.isEmpty, budget > 0, stillServes(sq, qid: qid) {
        budget &-= 1
        guard let entry = sq.fetch(sq.head, memory: memory) else {
          fail("submission queue \(qid) entry \(sq.head) is not in guest memory")
          break
        }
        // A fetch by DMA message lets the client in meanwhile: a device
        // reset may have taken the queue away. Its command goes with it.
        guard stillServes(sq, qid: qid) else { break }
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

  /// Whether `sq` is still queue `qid` of a ready controller: a command may
  /// change that, and so may the client during a fetch by DMA message.
  private func stillServes(_ sq: SubmissionQueue, qid: Int) -> Bool {
    csts.ready && !csts.fatal && submissionQueues[qid] === sq
  }

  /// Posts the completion of a command fetched from `sqid`.
  func complete(
    sqid: UInt16, cid: UInt16, status: NVMeStatus, dw0: UInt32 = 0, dw1: UInt32 = 0,
    namespaceID: UInt32 = 0, lba: UInt64 = 0
  ) {
    guard !suppressCompletions, Int(sqid) < submissionQueues.count,
      let sq = submissionQueues[Int(sqid)],
      let cq = completionQueues[Int(sq.completionQueueID)]
    else { return }
    sq.outstanding &-= 1
    sq.statistics.commands &+= 1
    if !status.isSuccess {
      sq.statistics.errors &+= 1
      recordError(
        sqid: sqid, cid: cid, status: status, phase: cq.phaseOfNextPost, namespaceID: namespaceID,
        lba: lba)
    }
    let entry = CompletionQueueEntry(
      dw0: dw0, dw1: dw1, submissionQueueHead: UInt16(truncatingIfNeeded: sq.head),
      submissionQueueIdentifier: sqid, commandIdentifier: cid, status: status, phase: false)
    if cq.backlog.isEmpty && !cq.isFull {
      post(entry, to: cq)
    } else {
      cq.backlog.append(entry)
    }
  }

  func flushBacklog(_ cq: CompletionQueue) {
    var posted = 0
    while posted < cq.backlog.count, !cq.isFull {
      post(cq.backlog[posted], to: cq)
      posted &+= 1
    }
    if posted > 0 { cq.backlog.removeFirst(posted) }
  }

  func post(_ entry: CompletionQueueEntry, to cq: CompletionQueue) {
    guard let memory else { return }
    var stamped = entry
    stamped.phase = cq.phase
    guard cq.store(stamped, at: cq.tail, memory: memory) else {
      fail("completion queue \(cq.id) is not in guest memory")
      return
    }
    cq.tail &+= 1
    if cq.tail == cq.size {
      cq.tail = 0
      cq.phase.toggle()
    }
    if cq.interruptsEnabled { entryPosted(stamped, vector: cq.vector) }
  }

  /// `phase`: the Phase Tag the command's completion is (or will be) posted
  /// with, which the entry's Status Field carries in bit 0.
  func recordError(
    sqid: UInt16, cid: UInt16, status: NVMeStatus, phase: Bool, namespaceID: UInt32, lba: UInt64
  ) {
    errorLog.record(
      ErrorInformationEntry(
        submissionQueueID: sqid, commandID: cid, status: status.encoded, phaseTag: phase,
        lba: lba, namespaceID: namespaceID))
    health.errorLogEntries = errorLog.lifetimeCount
  }

  /// Queues an asynchronous event if the host enabled its kind, and delivers
  /// it at once if a request is parked.
  func raise(_ event: AsyncEvent) {
    let configuration = features.current.asyncEventConfiguration
    let enabled: Bool
    switch (event.type, event.info) {
    case (AsyncEvent.EventType.error, _): enabled = true  // not maskable
    // SMART events follow the critical-warning bits they report: reliability
    // (bit 2), temperature (bit 1), spare (bit 0).
    case (AsyncEvent.EventType.smartHealth, 0): enabled = configuration & 0x4 != 0
    case (AsyncEvent.EventType.smartHealth, 1): enabled = configuration & 0x2 != 0
    case (AsyncEvent.EventType.smartHealth, 2): enabled = configuration & 0x1 != 0
    case (AsyncEvent.EventType.notice, 0):
      enabled = configuration & ControllerIdentity.OAES.namespaceAttributeNotices != 0
    default: enabled = false
    }
    guard enabled else { return }
    events.post(event)
    deliverEvents()
  }

  func deliverEvents() {
    while let (cid, event) = events.nextDelivery() {
      complete(sqid: 0, cid: cid, status: .success, dw0: event.dword0)
    }
  }

  // MARK: backends

  func markBackendForSubmit(_ index: Int) {
    guard index < backendDirty.count, !backendDirty[index] else { return }
    backendDirty[index] = true
    backendsToSubmit.append(index)
  }

  func submitBackends() {
    guard !backendsToSubmit.isEmpty else { return }
    for index in backendsToSubmit {
      backendDirty[index] = false
      namespaces[index].backend.submit()
    }
    backendsToSubmit.removeAll(keepingCapacity: true)
  }

  func reapBackends() -> Int {
    var work = 0
    for ns in namespaces where ns.backend.inFlight > 0 {
      work &+= ns.backend.reap { completion in ioPartCompleted(completion) }
    }
    return work
  }

  /// Waits for every backend request to finish, handling each completion.
  /// Used before anything that would pull memory or queues from under them.
  public func drainBackends() {
    submitBackends()
    for ns in namespaces where ns.backend.inFlight > 0 {
      ns.backend.drain { completion in ioPartCompleted(completion) }
    }
  }

  /// Synchronous flush of every writable backend (shutdown).
  func flushAllBackends() {
    for ns in namespaces where !ns.isReadOnly {
      ns.backend.enqueue(BlockRequest(operation: .flush, offset: 0, length: 0, tag: UInt64.max))
      ns.backend.drain { completion in
        if completion.tag != UInt64.max {
          ioPartCompleted(completion)
        } else if !completion.succeeded {
          log?("flush of namespace \(ns.id) failed: errno \(completion.errno)")
        }
      }
    }
  }

  /// The guest's DMA window is about to go away: finish every request that
  /// may point into it, and forget cached ring translations.
  public func memoryWillChange() {
    drainBackends()
    forgetRingTranslations()
  }

  /// Mappings were added: rings that were not translatable may be now.
  public func memoryDidChange() { forgetRingTranslations() }

  private func forgetRingTranslations() {
    for qid in activeSubmissionIDs { submissionQueues[qid]?.ring.invalidate() }
    for qid in activeCompletionIDs { completionQueues[qid]?.ring.invalidate() }
    shadowDoorbells?.invalidate()
  }
}
