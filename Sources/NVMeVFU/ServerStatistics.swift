import NVMe

/// What `get_stats` and the metrics file report, gathered on the reactor in
/// one go so every figure is from the same instant.
public struct ServerStatistics: Sendable {
  public struct NamespaceEntry: Sendable {
    public var nsid: UInt32
    public var sizeBytes: UInt64
    public var blockSize: Int
    public var inFlight: Int
    public var counters: NamespaceCountersSnapshot
  }

  public struct QueueEntry: Sendable {
    public var qid: Int
    public var statistics: QueueStatistics
    public var inFlight: Int
  }

  public var uptimeNanoseconds: UInt64
  public var reactor: ReactorStatistics
  public var namespaces: [NamespaceEntry]
  public var queues: [QueueEntry]

  /// Reactor thread only.
  init(controller: NVMeController, reactor: ReactorStatistics, uptimeNanoseconds: UInt64) {
    self.uptimeNanoseconds = uptimeNanoseconds
    self.reactor = reactor
    namespaces = controller.namespaces.map { ns in
      NamespaceEntry(
        nsid: ns.id, sizeBytes: ns.backend.size, blockSize: ns.blockSize,
        inFlight: ns.backend.inFlight, counters: ns.counters.snapshot)
    }
    queues = controller.queueReport.map {
      QueueEntry(qid: $0.id, statistics: $0.statistics, inFlight: $0.outstanding)
    }
  }
}
