/// Posting completions: straight into the CQ, or into its backlog while it is full.
extension NVMeController {
  /// Posts the completion of a command fetched from `sqid`.
  func complete(
    sqid: UInt16, cid: UInt16, status: NVMeStatus, dw0: UInt32 = 0, dw1: UInt32 = 0,
    namespaceID: UInt32 = 0, lba: UInt64 = 0
  ) {
    guard lifecycle.postsCompletions, Int(sqid) < session.submissionQueues.count,
      let sq = session.submissionQueues[Int(sqid)],
      let cq = session.completionQueues[Int(sq.completionQueueID)]
    else { return }
    sq.outstanding &-= 1
    sq.statistics.commands &+= 1
    if !status.isSuccess {
      sq.statistics.errors &+= 1
      if sqid != 0, let ns = namespace(namespaceID) { ns.counters.errors &+= 1 }
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
}
