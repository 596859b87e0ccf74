import Control
import NVMe

extension ServerStatistics {
  /// `get_stats`'s result. Latencies in microseconds, from the sampled histogram.
  public var json: JSONValue {
    .object([
      "uptime_seconds": .double(Self.seconds(uptimeNanoseconds)),
      "reactor": [
        "busy_seconds": .double(Self.seconds(reactor.busyNanoseconds)),
        "idle_seconds": .double(Self.seconds(reactor.idleNanoseconds)),
        "turns": .unsigned(reactor.turns), "sleeps": .unsigned(reactor.sleeps),
      ],
      "namespaces": .array(
        namespaces.map { ns in
          .object([
            "nsid": .unsigned(UInt64(ns.nsid)), "size": .unsigned(ns.sizeBytes),
            "block_size": .unsigned(UInt64(ns.blockSize)),
            "reads": .unsigned(ns.counters.reads), "writes": .unsigned(ns.counters.writes),
            "bytes_read": .unsigned(ns.counters.bytesRead),
            "bytes_written": .unsigned(ns.counters.bytesWritten),
            "errors": .unsigned(ns.counters.errors), "in_flight": .unsigned(UInt64(ns.inFlight)),
            "read_latency_us": Self.latency(ns.counters.readLatency),
            "write_latency_us": Self.latency(ns.counters.writeLatency),
          ])
        }),
      "queues": .array(
        queues.map { queue in
          .object([
            "qid": .unsigned(UInt64(queue.qid)),
            "commands": .unsigned(queue.statistics.commands),
            "reads": .unsigned(queue.statistics.reads),
            "writes": .unsigned(queue.statistics.writes),
            "bytes_read": .unsigned(queue.statistics.bytesRead),
            "bytes_written": .unsigned(queue.statistics.bytesWritten),
            "errors": .unsigned(queue.statistics.errors),
            "in_flight": .unsigned(UInt64(max(0, queue.inFlight))),
          ])
        }),
    ])
  }

  static func seconds(_ nanoseconds: UInt64) -> Double {
    (Double(nanoseconds) / 1e6).rounded() / 1e3
  }

  static func latency(_ histogram: LatencyHistogram) -> JSONValue {
    func microseconds(_ q: Double) -> JSONValue {
      guard let value = histogram.percentile(q) else { return .null }
      return .double((Double(value) / 100).rounded() / 10)
    }
    return [
      "samples": .unsigned(histogram.total), "p50": microseconds(0.5), "p99": microseconds(0.99),
    ]
  }
}
