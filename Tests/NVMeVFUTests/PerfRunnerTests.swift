import Glibc
import Testing

@testable import BenchKit

/// The bench's closed loop against the in-process server: what
/// `nvme-vfu-bench perf` runs, minus argument parsing and printing.
extension NVMeVFUTests {
  static func perfPlan(socket: String) -> PerfPlan {
    PerfPlan(
      socket: socket, rw: .randrw, readPercent: 50, blockSize: 4096, iodepth: 4, queues: 2,
      runtime: 0.3, ramp: 0.1, size: 1 << 20, verify: true, completion: .poll,
      dataPointer: .prp, namespace: 1, showProgress: false)
  }

  @Test func perfRunnerVerifiesAMixedLoadOnTwoQueues() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    var plan = Self.perfPlan(socket: server.path)
    plan.serverPID = getpid()
    let result = try PerfRunner(plan: plan).run()
    #expect(result.mismatch == nil)
    #expect(result.ioError == nil)
    #expect(result.errors == 0)
    #expect(result.reads > 0 && result.writes > 0, "randrw both reads and writes")
    #expect(result.sizeBytes == 1 << 20)
    #expect(result.seconds >= 0.3)
    #expect(result.histogram.totalCount == result.ios)
    #expect(result.serverCPU != nil, "the server's CPU was sampled")
  }

  /// Interrupt completion, SGLs and a rate cap: never more I/Os than the
  /// rate allows in the time measured.
  @Test func perfRunnerHoldsTheRateWithInterruptsAndSGLs() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    var plan = Self.perfPlan(socket: server.path)
    plan.completion = .interrupt
    plan.dataPointer = .sgl
    plan.ramp = 0
    plan.runtime = 0.25
    plan.rateIOPS = 400
    let result = try PerfRunner(plan: plan).run()
    #expect(result.mismatch == nil)
    #expect(result.ioError == nil)
    #expect(result.errors == 0)
    #expect(result.ios > 0)
    #expect(
      result.ios <= UInt64(result.seconds * 400) + 2,
      "\(result.ios) I/Os in \(result.seconds) s at 400 IOPS")
    #expect(result.interrupts != nil)
  }

  /// --verify on a read-only workload writes its pattern over every chunk
  /// first, so the reads have something to check (not zeroes "verified").
  @Test func perfRunnerWritesThePatternBeforeAVerifiedReadOnlyLoad() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    var plan = Self.perfPlan(socket: server.path)
    plan.rw = .randread
    plan.ramp = 0
    plan.runtime = 0.2
    let result = try PerfRunner(plan: plan).run()
    #expect(result.prefilledChunks == (1 << 20) / 4096, "every 4 KiB chunk of 1 MiB")
    #expect(result.mismatch == nil)
    #expect(result.ioError == nil)
    #expect(result.reads > 0 && result.writes == 0, "the pattern's writes are not measured")
    #expect(PerfReport.text(result).contains("verify: ok (wrote the pattern over 256 chunks"))
    var mixed = Self.perfPlan(socket: server.path)
    mixed.runtime = 0.1
    #expect(try PerfRunner(plan: mixed).run().prefilledChunks == nil, "randrw writes its own")
  }

  @Test func perfRunnerRefusesWhatTheNamespaceCannotTake() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    var misaligned = Self.perfPlan(socket: server.path)
    misaligned.blockSize = 1000
    #expect(throws: BenchError.self) { _ = try PerfRunner(plan: misaligned) }
    var large = Self.perfPlan(socket: server.path)
    large.blockSize = 1 << 20
    let error = #expect(throws: BenchError.self) { _ = try PerfRunner(plan: large) }
    #expect(error?.description == "--bs 1048576 exceeds the controller's MDTS (524288 bytes)")
    var crowded = Self.perfPlan(socket: server.path)
    crowded.size = 4096 * 8
    let verify = #expect(throws: BenchError.self) { _ = try PerfRunner(plan: crowded) }
    #expect(verify?.description.hasPrefix("--verify needs more --bs chunks") == true)
  }
}
