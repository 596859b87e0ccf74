/// `perf` results as text or JSON (fio's layout, `FioJSON`, with one flat
/// object of every figure under "nvme-vfu", keys in `PerfCommand`'s help).
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
    if let stop = result.stop, case .signal(let signo) = stop {
      let what = result.seconds > 0 ? "partial results" : "stopped before measuring"
      lines.append("interrupted by \(signalName(signo)): \(what)")
    }
    lines.append(
      "\(plan.rw.rawValue): bs=\(plan.blockSize) iodepth=\(plan.iodepth) queues=\(plan.queues) "
        + "completion=\(plan.completion.rawValue) data-pointer=\(plan.dataPointer.rawValue) "
        + "size=\(result.sizeBytes) runtime=\(Format.fixed(result.seconds, 2))s"
        + (plan.rw == .randrw ? " rwmixread=\(plan.readPercent)" : ""))
    if plan.rw != .write && plan.rw != .randwrite {
      lines += direction("read", result.readFigures)
    }
    if plan.rw.writes { lines += direction("write", result.writeFigures) }
    lines.append(
      "  total: IOPS=\(Format.count(f.iops)) (\(Format.fixed(f.iops, 0))), "
        + "BW=\(Format.fixed(f.mibPerSecond, 1))MiB/s, ios=\(result.ios), errors=\(result.errors)")
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
      let prefill = result.prefilledChunks.map {
        " (wrote the pattern over \($0) chunks of \(plan.blockSize) bytes first, then checked every read)"
      }
      lines.append(
        "  verify: " + (result.mismatch.map { "FAILED, \($0)" } ?? "ok") + (prefill ?? ""))
    }
    return lines.joined(separator: "\n")
  }

  /// fio-like: "  read: IOPS=..., BW=...", then latency min/max/avg/stdev and
  /// percentiles, in microseconds.
  static func direction(_ name: String, _ f: DirectionFigures) -> [String] {
    func us(_ nanoseconds: Double) -> String { Format.fixed(nanoseconds / 1000, 2) }
    let p = { (percentile: Double) in us(Double(f.nanoseconds(atPercentile: percentile))) }
    return [
      "  \(name): IOPS=\(Format.count(f.iops)) (\(Format.fixed(f.iops, 0))), "
        + "BW=\(Format.fixed(f.bytesPerSecond / 1_048_576, 1))MiB/s, ios=\(f.ios)",
      "    lat (us): min=\(us(Double(f.minNanoseconds))), max=\(us(Double(f.maxNanoseconds))), "
        + "avg=\(us(f.meanNanoseconds)), stdev=\(us(f.stddevNanoseconds))",
      "    lat percentiles (us): p50=\(p(50)), p90=\(p(90)), p99=\(p(99)), p99.9=\(p(99.9)), "
        + "p99.99=\(p(99.99))",
    ]
  }

  /// "SIGINT", "SIGTERM", else "signal N".
  static func signalName(_ signo: Int32) -> String {
    switch signo {
    case 2: "SIGINT"
    case 15: "SIGTERM"
    default: "signal \(signo)"
    }
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

  /// fio's layout, with `flatJSON` under "nvme-vfu".
  public static func json(_ result: PerfResult) -> String {
    FioJSON.report(result, flat: flatJSON(result))
  }

  /// Every figure as one flat object (keys in `PerfCommand`'s help).
  static func flatJSON(_ result: PerfResult) -> String {
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
      ("interrupted_by", result.stop.map(stopName) ?? "null"),
      ("verify_prefilled_chunks", result.prefilledChunks.map { "\($0)" } ?? "null"),
    ]
    return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
  }

  private static func stopName(_ stop: RunStop) -> String {
    switch stop {
    case .hangUp: Format.jsonString("hang-up")
    case .signal(let signo): Format.jsonString(signalName(signo))
    }
  }
}
