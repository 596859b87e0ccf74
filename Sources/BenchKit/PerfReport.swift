/// `perf` results as text or as one flat JSON object (keys documented in
/// `PerfCommand`'s help).
public enum PerfReport {
  struct Figures {
    var iops: Double
    var mibPerSecond: Double
    var meanMicroseconds: Double
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double
    var cpu: Double
    var cpuPercent: Double
  }

  static func figures(_ result: PerfResult) -> Figures {
    let seconds = max(result.seconds, 1e-9)
    let histogram = result.histogram
    let empty = histogram.totalCount == 0
    func microseconds(_ percentile: Double) -> Double {
      empty ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }
    let cpu = result.cpuUser + result.cpuSystem
    return Figures(
      iops: Double(result.ios) / seconds,
      mibPerSecond: Double(result.ios) * Double(result.plan.blockSize) / 1_048_576 / seconds,
      meanMicroseconds: empty ? 0 : histogram.mean / 1000, p50: microseconds(50),
      p99: microseconds(99), p999: microseconds(99.9),
      max: empty ? 0 : Double(histogram.max) / 1000, cpu: cpu, cpuPercent: cpu / seconds * 100)
  }

  public static func text(_ result: PerfResult) -> String {
    let plan = result.plan
    let f = figures(result)
    var lines: [String] = []
    lines.append(
      "\(plan.rw.rawValue): bs=\(plan.blockSize) iodepth=\(plan.iodepth) queues=\(plan.queues) "
        + "completion=\(plan.completion.rawValue) data-pointer=\(plan.dataPointer.rawValue) "
        + "size=\(result.sizeBytes) runtime=\(Format.fixed(result.seconds, 2))s"
        + (plan.rw == .randrw ? " rwmixread=\(plan.readPercent)" : ""))
    lines.append(
      "  IOPS: \(Format.count(f.iops)) (\(Format.fixed(f.iops, 0))), bandwidth: \(Format.fixed(f.mibPerSecond, 1)) MiB/s"
    )
    lines.append(
      "  ios: \(result.ios) (reads \(result.reads), writes \(result.writes)), errors \(result.errors)"
    )
    lines.append(
      "  latency (us): mean \(Format.fixed(f.meanMicroseconds, 2)), p50 \(Format.fixed(f.p50, 2)), "
        + "p99 \(Format.fixed(f.p99, 2)), p99.9 \(Format.fixed(f.p999, 2)), max \(Format.fixed(f.max, 2))"
    )
    lines.append(
      "  client CPU: \(Format.fixed(f.cpu, 2)) s (user \(Format.fixed(result.cpuUser, 2)), "
        + "sys \(Format.fixed(result.cpuSystem, 2))) = \(Format.fixed(f.cpuPercent, 1))% of one core"
    )
    if let serverCPU = result.serverCPU {
      lines.append(
        "  server CPU: \(Format.fixed(serverCPU, 2)) s = \(Format.fixed(serverCPU / max(result.seconds, 1e-9) * 100, 1))% of one core, "
          + "\(Format.fixed(serverCPUPerMillion(result) ?? 0, 3)) s per million I/Os")
    }
    lines.append(
      "  doorbells: dbbuf \(result.dbbuf ? "on" : "off"), "
        + "\(result.doorbellsMapped ? "mapped" : "posted messages"), "
        + "\(doorbellRingsPerIO(result).map { Format.fixed($0, 3) } ?? "-") rings per I/O")
    var pacing: [String] = []
    if plan.thinktimeMicroseconds > 0 {
      pacing.append(
        "thinktime \(plan.thinktimeMicroseconds) us after every \(plan.thinktimeBlocks) I/Os")
    }
    if plan.rateIOPS > 0 { pacing.append("rate_iops \(plan.rateIOPS)") }
    if !pacing.isEmpty { lines.append("  pacing: " + pacing.joined(separator: ", ")) }
    if let interrupts = result.interrupts {
      lines.append(
        "  interrupts: \(interrupts) = \(Format.fixed(interruptsPerIO(result) ?? 0, 3)) per I/O"
          + (plan.irqCoalescing.map { ", coalescing \($0.text)" } ?? ""))
    }
    if plan.verify {
      lines.append("  verify: " + (result.mismatch.map { "FAILED, \($0)" } ?? "ok"))
    }
    return lines.joined(separator: "\n")
  }

  /// Server CPU seconds per million I/Os, when measured and any I/O completed.
  static func serverCPUPerMillion(_ result: PerfResult) -> Double? {
    guard let cpu = result.serverCPU, result.ios > 0 else { return nil }
    return cpu / Double(result.ios) * 1e6
  }

  /// MSI-X interrupts per completed I/O, in interrupt completion mode.
  static func interruptsPerIO(_ result: PerfResult) -> Double? {
    guard let interrupts = result.interrupts, result.ios > 0 else { return nil }
    return Double(interrupts) / Double(result.ios)
  }

  /// Real doorbell writes per I/O while measuring, when any I/O completed.
  static func doorbellRingsPerIO(_ result: PerfResult) -> Double? {
    guard result.ios > 0 else { return nil }
    return Double(result.doorbellRings) / Double(result.ios)
  }

  public static func json(_ result: PerfResult) -> String {
    let plan = result.plan
    let f = figures(result)
    let fields: [(String, String)] = [
      ("rw", Format.jsonString(plan.rw.rawValue)),
      ("bs", "\(plan.blockSize)"),
      ("iodepth", "\(plan.iodepth)"),
      ("queues", "\(plan.queues)"),
      ("rwmixread", "\(plan.readPercent)"),
      ("completion", Format.jsonString(plan.completion.rawValue)),
      ("data_pointer", Format.jsonString(plan.dataPointer.rawValue)),
      ("namespace", "\(plan.namespace)"),
      ("size_bytes", "\(result.sizeBytes)"),
      ("ramp_s", Format.fixed(plan.ramp, 3)),
      ("runtime_s", Format.fixed(result.seconds, 3)),
      ("ios", "\(result.ios)"),
      ("reads", "\(result.reads)"),
      ("writes", "\(result.writes)"),
      ("errors", "\(result.errors)"),
      ("iops", Format.fixed(f.iops, 1)),
      ("mib_per_s", Format.fixed(f.mibPerSecond, 2)),
      ("lat_mean_us", Format.fixed(f.meanMicroseconds, 3)),
      ("lat_p50_us", Format.fixed(f.p50, 3)),
      ("lat_p99_us", Format.fixed(f.p99, 3)),
      ("lat_p999_us", Format.fixed(f.p999, 3)),
      ("lat_max_us", Format.fixed(f.max, 3)),
      ("cpu_user_s", Format.fixed(result.cpuUser, 3)),
      ("cpu_system_s", Format.fixed(result.cpuSystem, 3)),
      ("cpu_s", Format.fixed(f.cpu, 3)),
      ("cpu_percent", Format.fixed(f.cpuPercent, 1)),
      ("verify", plan.verify ? "true" : "false"),
      ("verify_errors", result.mismatch == nil ? "0" : "1"),
      ("first_mismatch_lba", result.mismatch.map { "\($0.lba)" } ?? "null"),
      ("server_cpu_s", result.serverCPU.map { Format.fixed($0, 3) } ?? "null"),
      ("server_cpu_s_per_mio", serverCPUPerMillion(result).map { Format.fixed($0, 4) } ?? "null"),
      // Doorbells and sparse loads.
      ("dbbuf", result.dbbuf ? "true" : "false"),
      ("doorbell_rings_per_io", doorbellRingsPerIO(result).map { Format.fixed($0, 4) } ?? "null"),
      ("thinktime_us", "\(plan.thinktimeMicroseconds)"),
      ("thinktime_blocks", "\(plan.thinktimeBlocks)"),
      ("rate_iops", "\(plan.rateIOPS)"),
      ("irq_coalescing", plan.irqCoalescing.map { Format.jsonString($0.text) } ?? "null"),
      ("interrupts", result.interrupts.map { "\($0)" } ?? "null"),
      ("interrupts_per_io", interruptsPerIO(result).map { Format.fixed($0, 4) } ?? "null"),
    ]
    return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
  }
}
