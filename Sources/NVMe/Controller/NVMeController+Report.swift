extension NVMeController {
  /// One line's worth per existing submission queue, for statistics.
  public struct QueueReport: Sendable {
    public var id: Int
    public var statistics: QueueStatistics
    /// Commands fetched and not yet completed.
    public var outstanding: Int
    /// Its tail comes from the host's shadow doorbell buffer.
    public var shadowed: Bool
  }

  public var queueReport: [QueueReport] {
    session.activeSubmissionIDs.compactMap { qid in
      guard let sq = session.submissionQueues[qid] else { return nil }
      return QueueReport(
        id: qid, statistics: sq.statistics, outstanding: sq.outstanding, shadowed: sq.shadowed)
    }
  }

  /// Stop point for the server's exit: every command handed to a backend
  /// finishes and is completed to the guest, then everything is flushed.
  public func quiesce() {
    drainBackends()
    flushAllBackends()
    signalWaitingVectors()
    raisePendingInterrupts()
  }
}
