import NVMe

/// The metrics file in Prometheus' text exposition format (version 0.0.4),
/// for node_exporter's textfile collector.
///
/// Written by hand rather than through swift-metrics and swift-prometheus:
/// their counters are updated through a handler per increment (an existential
/// call, and a lock or atomic in swift-prometheus), a cost the reactor would
/// pay on every command. The reactor keeps plain single-writer counters, and
/// this renders them on demand, off the hot path.
public enum PrometheusText {
  /// `le` bounds of the latency histograms, in seconds.
  static let latencyBounds: [Double] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 1,
  ]

  public static func render(_ stats: ServerStatistics) -> String {
    var out = ""
    func family(_ name: String, _ type: String, _ help: String) {
      out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }
    func perNamespace(
      _ name: String, _ type: String, _ help: String,
      _ value: (ServerStatistics.NamespaceEntry) -> UInt64
    ) {
      family(name, type, help)
      for ns in stats.namespaces { out += "\(name){nsid=\"\(ns.nsid)\"} \(value(ns))\n" }
    }
    family("nvme_vfu_uptime_seconds", "gauge", "Seconds since the server started.")
    out += "nvme_vfu_uptime_seconds \(ServerStatistics.seconds(stats.uptimeNanoseconds))\n"
    family("nvme_vfu_reactor_busy_seconds_total", "counter", "Reactor time spent working.")
    out +=
      "nvme_vfu_reactor_busy_seconds_total \(ServerStatistics.seconds(stats.reactor.busyNanoseconds))\n"
    family("nvme_vfu_reactor_idle_seconds_total", "counter", "Reactor time spent asleep.")
    out +=
      "nvme_vfu_reactor_idle_seconds_total \(ServerStatistics.seconds(stats.reactor.idleNanoseconds))\n"
    perNamespace("nvme_vfu_namespace_size_bytes", "gauge", "Namespace capacity.") { $0.sizeBytes }
    perNamespace("nvme_vfu_reads_total", "counter", "Read commands completed successfully.") {
      $0.counters.reads
    }
    perNamespace("nvme_vfu_writes_total", "counter", "Write commands completed successfully.") {
      $0.counters.writes
    }
    perNamespace("nvme_vfu_read_bytes_total", "counter", "Bytes read by Read commands.") {
      $0.counters.bytesRead
    }
    perNamespace("nvme_vfu_written_bytes_total", "counter", "Bytes written by Write commands.") {
      $0.counters.bytesWritten
    }
    perNamespace("nvme_vfu_errors_total", "counter", "I/O commands completed with an error.") {
      $0.counters.errors
    }
    perNamespace("nvme_vfu_in_flight", "gauge", "Requests in the namespace's backend.") {
      UInt64(max(0, $0.inFlight))
    }
    histogram(
      "nvme_vfu_read_latency_seconds", "Read latency, fetch to completion (sampled).",
      stats.namespaces.map { ($0.nsid, $0.counters.readLatency) }, into: &out)
    histogram(
      "nvme_vfu_write_latency_seconds", "Write latency, fetch to completion (sampled).",
      stats.namespaces.map { ($0.nsid, $0.counters.writeLatency) }, into: &out)
    return out
  }

  static func histogram(
    _ name: String, _ help: String, _ series: [(UInt32, LatencyHistogram)], into out: inout String
  ) {
    out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
    for (nsid, histogram) in series {
      for bound in latencyBounds {
        let count = histogram.count(atMost: UInt64(bound * 1e9))
        out += "\(name)_bucket{nsid=\"\(nsid)\",le=\"\(bound)\"} \(count)\n"
      }
      out += "\(name)_bucket{nsid=\"\(nsid)\",le=\"+Inf\"} \(histogram.total)\n"
      out += "\(name)_sum{nsid=\"\(nsid)\"} \(Double(histogram.sum) / 1e9)\n"
      out += "\(name)_count{nsid=\"\(nsid)\"} \(histogram.total)\n"
    }
  }
}
