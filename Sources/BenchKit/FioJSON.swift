/// `perf --output-format json`: fio 3.x's JSON layout for the fields the
/// bench has (`jobs[0].read` / `jobs[0].write` with `io_bytes`, `bw_bytes`,
/// `bw`, `iops`, `runtime`, `total_ios` and `slat_ns` / `clat_ns` / `lat_ns`
/// with `percentile`), so fio's tools read it; everything else the bench
/// measures is in `"nvme-vfu"`, one flat object.
enum FioJSON {
  static func report(_ result: PerfResult, flat: String) -> String {
    let plan = result.plan
    let cpuSeconds = max(result.seconds, 1e-9)
    let options = object([
      ("name", string(plan.rw.rawValue)), ("rw", string(plan.rw.rawValue)),
      ("bs", string("\(plan.blockSize)")), ("iodepth", string("\(plan.iodepth)")),
      ("rwmixread", string("\(plan.readPercent)")), ("size", string("\(result.sizeBytes)")),
      ("runtime", string(Format.trimmed(plan.runtime))),
      ("ramp_time", string(Format.trimmed(plan.ramp))),
    ])
    let job = object([
      ("jobname", string(plan.rw.rawValue)), ("groupid", "0"),
      ("error", result.ioError == nil ? "0" : "5"),
      ("job options", options),
      ("read", direction(result.readFigures, seconds: result.seconds)),
      ("write", direction(result.writeFigures, seconds: result.seconds)),
      ("trim", direction(nil, seconds: result.seconds)),
      ("job_runtime", "\(milliseconds(result.seconds))"),
      ("usr_cpu", Format.fixed(result.cpuUser / cpuSeconds * 100, 6)),
      ("sys_cpu", Format.fixed(result.cpuSystem / cpuSeconds * 100, 6)),
    ])
    return object([
      ("fio version", string("nvme-vfu-bench")),
      ("jobs", "[" + job + "]"),
      ("nvme-vfu", flat),
    ])
  }

  /// One direction: nil writes the zeroes fio writes for an unused one.
  static func direction(_ figures: DirectionFigures?, seconds: Double) -> String {
    let f = figures
    let runtime = (f?.ios ?? 0) > 0 ? milliseconds(seconds) : 0
    let latency = self.latency(f)
    let zero = self.latency(nil, percentiles: false)
    return object([
      ("io_bytes", "\(f?.bytes ?? 0)"), ("io_kbytes", "\((f?.bytes ?? 0) >> 10)"),
      ("bw_bytes", "\(UInt64(f?.bytesPerSecond ?? 0))"),
      ("bw", "\(UInt64(f?.bytesPerSecond ?? 0) / 1024)"),
      ("iops", Format.fixed(f?.iops ?? 0, 6)), ("runtime", "\(runtime)"),
      ("total_ios", "\(f?.ios ?? 0)"), ("short_ios", "0"), ("drop_ios", "0"),
      // Submission is a store into the ring: latency runs from the doorbell,
      // so completion and total latency are the same figures.
      ("slat_ns", zero), ("clat_ns", latency), ("lat_ns", latency),
    ])
  }

  static func latency(_ f: DirectionFigures?, percentiles: Bool = true) -> String {
    var fields: [(String, String)] = [
      ("min", "\(f?.minNanoseconds ?? 0)"), ("max", "\(f?.maxNanoseconds ?? 0)"),
      ("mean", Format.fixed(f?.meanNanoseconds ?? 0, 6)),
      ("stddev", Format.fixed(f?.stddevNanoseconds ?? 0, 6)), ("N", "\(f?.samples ?? 0)"),
    ]
    if percentiles, let f, f.samples > 0 {
      let values = DirectionFigures.percentiles.map { percentile in
        (Format.fixed(percentile, 6), "\(f.nanoseconds(atPercentile: percentile))")
      }
      fields.append(("percentile", object(values)))
    }
    return object(fields)
  }

  static func milliseconds(_ seconds: Double) -> UInt64 {
    seconds > 0 ? UInt64((seconds * 1000).rounded()) : 0
  }

  static func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(Format.jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
  }

  static func string(_ text: String) -> String { Format.jsonString(text) }
}
