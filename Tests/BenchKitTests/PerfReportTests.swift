import Histogram
import Testing

@testable import BenchKit

@Suite struct PerfReportTests {
  static let plan = PerfPlan(
    socket: "/run/nvme.sock", rw: .randrw, readPercent: 75, blockSize: 4096, iodepth: 8,
    queues: 2, runtime: 2, ramp: 0.5, size: 1 << 20, verify: true, completion: .poll,
    dataPointer: .prp, namespace: 1, showProgress: false)

  /// 200,000 I/Os in 2 s; latencies of 1, 1, 1 and 2 us (exact in an HDR
  /// histogram: below 2048 ns every value has its own bucket): the reads
  /// 1 us each, the writes 1 and 2 us.
  static func result(
    plan: PerfPlan = plan, mismatch: VerifyMismatch? = nil, serverCPU: Double? = nil,
    interrupts: UInt64? = nil
  ) -> PerfResult {
    var histogram = Histogram<UInt64>(
      lowestDiscernibleValue: 1, highestTrackableValue: PerfRunner.highestLatency,
      numberOfSignificantValueDigits: .three)
    var reads = PerfRunner.latencyHistogram()
    var writes = PerfRunner.latencyHistogram()
    for value in [1000, 1000, 1000, 2000] as [UInt64] { _ = histogram.record(value) }
    for value in [1000, 1000] as [UInt64] { _ = reads.record(value) }
    for value in [1000, 2000] as [UInt64] { _ = writes.record(value) }
    return PerfResult(
      plan: plan, sizeBytes: 1 << 20, seconds: 2, reads: 150_000, writes: 50_000, errors: 0,
      histogram: histogram, readHistogram: reads, writeHistogram: writes, cpuUser: 0.5,
      cpuSystem: 0.25, mismatch: mismatch, ioError: nil,
      serverCPU: serverCPU, dbbuf: true, doorbellsMapped: false, doorbellRings: 100_000,
      interrupts: interrupts)
  }

  @Test func figuresFromTheCounts() {
    let f = PerfReport.figures(Self.result())
    #expect(f.iops == 100_000)
    #expect(f.mibPerSecond == 390.625)
    #expect(f.meanMicroseconds == 1.25)
    #expect(f.p50 == 1)
    #expect(f.p99 == 2)
    #expect(f.max == 2)
    #expect(f.cpu == 0.75)
    #expect(f.cpuPercent == 37.5)
  }

  @Test func anEmptyRunReportsZeroes() {
    var result = Self.result()
    result.histogram.reset()
    result.reads = 0
    result.writes = 0
    result.seconds = 0
    let f = PerfReport.figures(result)
    #expect(f.iops == 0 && f.p99 == 0 && f.max == 0 && f.meanMicroseconds == 0)
    #expect(PerfReport.doorbellRingsPerIO(result) == nil)
    #expect(PerfReport.flatJSON(result).contains("\"doorbell_rings_per_io\":null"))
  }

  @Test func perIORatios() {
    let result = Self.result(serverCPU: 1.5, interrupts: 50_000)
    #expect(PerfReport.serverCPUPerMillion(result) == 7.5)
    #expect(PerfReport.interruptsPerIO(result) == 0.25)
    #expect(PerfReport.doorbellRingsPerIO(result) == 0.5)
    #expect(PerfReport.serverCPUPerMillion(Self.result()) == nil)
    #expect(PerfReport.interruptsPerIO(Self.result()) == nil)
  }

  @Test func textReport() {
    let lines = PerfReport.text(Self.result()).split(separator: "\n").map(String.init)
    #expect(
      lines == [
        "randrw: bs=4096 iodepth=8 queues=2 completion=poll data-pointer=prp size=1048576 "
          + "runtime=2.00s rwmixread=75",
        "  read: IOPS=75.0k (75000), BW=293.0MiB/s, ios=150000",
        "    lat (us): min=1.00, max=1.00, avg=1.00, stdev=0.00",
        "    lat percentiles (us): p50=1.00, p90=1.00, p99=1.00, p99.9=1.00, p99.99=1.00",
        "  write: IOPS=25.0k (25000), BW=97.7MiB/s, ios=50000",
        "    lat (us): min=1.00, max=2.00, avg=1.50, stdev=0.50",
        "    lat percentiles (us): p50=1.00, p90=2.00, p99=2.00, p99.9=2.00, p99.99=2.00",
        "  total: IOPS=100.0k (100000), BW=390.6MiB/s, ios=200000, errors=0",
        "  client CPU: 0.75 s (user 0.50, sys 0.25) = 37.5% of one core",
        "  doorbells: dbbuf on, posted messages, 0.500 rings per I/O",
        "  verify: ok",
      ])
  }

  @Test func textReportsPacingInterruptsServerCPUAndAMismatch() {
    var plan = Self.plan
    plan.thinktimeMicroseconds = 20
    plan.thinktimeBlocks = 4
    plan.rateIOPS = 1000
    plan.irqCoalescing = IRQCoalescingOption(argument: "7:2")
    let mismatch = VerifyMismatch(lba: 9, byteOffset: 0, generation: 1, expected: 9, found: 8)
    let text = PerfReport.text(
      Self.result(plan: plan, mismatch: mismatch, serverCPU: 1.5, interrupts: 50_000))
    #expect(text.contains("\n  server CPU: 1.50 s = 75.0% of one core, 7.500 s per million I/Os\n"))
    #expect(text.contains("\n  pacing: thinktime 20 us after every 4 I/Os, rate_iops 1000\n"))
    #expect(text.contains("\n  interrupts: 50000 = 0.250 per I/O, coalescing 7:2\n"))
    #expect(text.hasSuffix("\n  verify: FAILED, \(mismatch)"))
  }

  @Test func flatJSONReport() {
    let json = PerfReport.flatJSON(Self.result())
    #expect(json.hasPrefix("{\"rw\":\"randrw\",\"bs\":4096,\"iodepth\":8,\"queues\":2,"))
    #expect(
      json.hasSuffix(
        ",\"interrupts\":null,\"interrupts_per_io\":null,\"interrupted_by\":null,"
          + "\"verify_prefilled_chunks\":null}"))
    for field in [
      "\"completion\":\"poll\"", "\"data_pointer\":\"prp\"", "\"ramp_s\":0.500",
      "\"runtime_s\":2.000", "\"ios\":200000", "\"iops\":100000.0", "\"mib_per_s\":390.63",
      "\"lat_mean_us\":1.250", "\"lat_p99_us\":2.000", "\"cpu_percent\":37.5",
      "\"verify\":true", "\"verify_errors\":0", "\"first_mismatch_lba\":null",
      "\"server_cpu_s\":null", "\"dbbuf\":true", "\"doorbell_rings_per_io\":0.5000",
      "\"irq_coalescing\":null",
    ] {
      #expect(json.contains(field), "\(field)")
    }
  }

  @Test func jsonReportsAMismatchAndTheServer() {
    let mismatch = VerifyMismatch(lba: 77, byteOffset: 0, generation: 1, expected: 9, found: 8)
    let json = PerfReport.flatJSON(Self.result(mismatch: mismatch, serverCPU: 1.5))
    #expect(json.contains("\"verify_errors\":1,\"first_mismatch_lba\":77,"))
    #expect(json.contains("\"server_cpu_s\":1.500,\"server_cpu_s_per_mio\":7.5000,"))
  }
}
