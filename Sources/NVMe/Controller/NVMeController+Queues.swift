import Logging

extension NVMeController {
  /// Queues the host may create: what Set Features (Number of Queues)
  /// allocated, or the maximum if it never asked.
  private var allowedQueueIDs: (submission: Int, completion: Int) {
    let dword0 = session.features.current.queues.dword0
    return (Int(dword0 & 0xFFFF) + 1, Int(dword0 >> 16) + 1)
  }

  /// Create I/O Completion Queue (Base 2.0, 5.4).
  func createCompletionQueue(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let qid = Int(sqe.cdw10 & 0xFFFF)
    let entries = Int(sqe.cdw10 >> 16) + 1
    let contiguous = sqe.cdw11 & 1 != 0
    let interruptsEnabled = sqe.cdw11 & 2 != 0
    let vector = UInt16(truncatingIfNeeded: sqe.cdw11 >> 16)
    guard qid != 0, qid <= min(allowedQueueIDs.completion, maxQueueID),
      session.completionQueues[qid] == nil
    else { throw .invalidQueueIdentifier }
    guard entries >= 2, entries <= capabilities.maxQueueEntries else { throw .invalidQueueSize }
    guard contiguous else { throw .invalidField }  // CAP.CQR = 1
    guard Int(vector) < settings.interruptVectors else { throw .invalidInterruptVector }
    let ring = QueueRing(baseAddress: sqe.prp1, entrySize: 16, entries: entries, writable: true)
    try checkPlacement(ring)
    let cq = CompletionQueue(
      id: UInt16(qid), vector: vector, interruptsEnabled: interruptsEnabled, ring: ring)
    doorbells.store(DoorbellPage.completionHead(qid), 0)
    cq.shadowed = startShadowing(slot: DoorbellPage.completionHead(qid), at: 0)
    install(cq)
    session.ioQueuesCreated = true
    return 0
  }

  /// Create I/O Submission Queue (Base 2.0, 5.5).
  func createSubmissionQueue(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let qid = Int(sqe.cdw10 & 0xFFFF)
    let entries = Int(sqe.cdw10 >> 16) + 1
    let contiguous = sqe.cdw11 & 1 != 0
    let cqid = Int(sqe.cdw11 >> 16)
    guard cqid != 0, cqid < session.completionQueues.count, let cq = session.completionQueues[cqid]
    else {
      throw .completionQueueInvalid
    }
    guard qid != 0, qid <= min(allowedQueueIDs.submission, maxQueueID),
      session.submissionQueues[qid] == nil
    else { throw .invalidQueueIdentifier }
    guard entries >= 2, entries <= capabilities.maxQueueEntries else { throw .invalidQueueSize }
    guard contiguous else { throw .invalidField }
    let ring = QueueRing(baseAddress: sqe.prp1, entrySize: 64, entries: entries, writable: false)
    try checkPlacement(ring)
    let sq = SubmissionQueue(id: UInt16(qid), completionQueueID: UInt16(cqid), ring: ring)
    cq.submissionQueueCount &+= 1
    doorbells.store(DoorbellPage.submissionTail(qid), 0)
    sq.shadowed = startShadowing(slot: DoorbellPage.submissionTail(qid), at: 0)
    install(sq)
    logger.info(
      "I/O submission queue \(qid): \(entries) entries, completion queue \(cqid), doorbell \(sq.shadowed ? "shadowed" : "real")"
    )
    return 0
  }

  /// The base must be page aligned (the low bits of PRP1 are an offset that
  /// must be zero here) and the ring must not wrap the address space.
  private func checkPlacement(_ ring: QueueRing) throws(NVMeStatus) {
    guard ring.baseAddress & UInt64(cc.pageSize &- 1) == 0 else { throw .prpOffsetInvalid }
    guard ring.isAddressable else { throw .invalidField }
  }

  /// Delete I/O Submission Queue: its in-flight commands finish first (their
  /// buffers are guest memory the host is about to reuse), then it goes.
  /// Their completions that do not fit the CQ are dropped, as QEMU's NVMe
  /// model does: posted after the delete's own completion, they would name a
  /// queue the host has already torn down (and command IDs it may reuse).
  func deleteSubmissionQueue(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let qid = Int(sqe.cdw10 & 0xFFFF)
    guard qid != 0, qid < session.submissionQueues.count, let sq = session.submissionQueues[qid]
    else {
      throw .invalidQueueIdentifier
    }
    if sq.outstanding > 0 { drainBackends() }
    if let cq = session.completionQueues[Int(sq.completionQueueID)] {
      flushBacklog(cq)
      cq.backlog.removeAll { $0.submissionQueueIdentifier == UInt16(qid) }
      cq.submissionQueueCount &-= 1
    }
    session.submissionQueues[qid] = nil
    session.activeSubmissionIDs.removeAll { $0 == qid }
    doorbells.store(DoorbellPage.submissionTail(qid), 0)
    return 0
  }

  /// Delete I/O Completion Queue: refused while a submission queue uses it.
  func deleteCompletionQueue(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let qid = Int(sqe.cdw10 & 0xFFFF)
    guard qid != 0, qid < session.completionQueues.count, let cq = session.completionQueues[qid]
    else {
      throw .invalidQueueIdentifier
    }
    guard cq.submissionQueueCount == 0 else { throw .invalidQueueDeletion }
    session.completionQueues[qid] = nil
    session.activeCompletionIDs.removeAll { $0 == qid }
    doorbells.store(DoorbellPage.completionHead(qid), 0)
    return 0
  }

  func install(_ cq: CompletionQueue) {
    session.completionQueues[Int(cq.id)] = cq
    session.activeCompletionIDs.append(Int(cq.id))
    session.activeCompletionIDs.sort()
  }

  func install(_ sq: SubmissionQueue) {
    session.submissionQueues[Int(sq.id)] = sq
    session.activeSubmissionIDs.append(Int(sq.id))
    session.activeSubmissionIDs.sort()
  }
}
