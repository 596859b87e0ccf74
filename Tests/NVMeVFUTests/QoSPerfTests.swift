import Glibc
import NVMe
import Testing

@testable import BenchKit

/// QoS limits measured in real time: the bench's closed loop at QD8 against
/// the in-process server, limits set on the reactor thread before it runs.
extension NVMeVFUTests {
  private static func limitedRun(_ limits: QoSLimits) throws -> PerfResult {
    let server = try InProcessServer(configure: { controller in
      try controller.setQoS(nsid: 1, limits: limits)
    })
    defer { server.shutdown() }
    var plan = Self.perfPlan(socket: server.path)
    plan.rw = .randread
    plan.verify = false
    plan.queues = 1
    plan.iodepth = 8
    // The ramp spends the burst, so the window sees the steady rate.
    plan.ramp = 0.3
    plan.runtime = 2
    let result = try PerfRunner(plan: plan).run()
    #expect(result.ioError == nil)
    #expect(result.errors == 0)
    return result
  }

  @Test func qosHoldsAnIOPSLimit() throws {
    let result = try Self.limitedRun(QoSLimits(iops: 2000))
    let rate = Double(result.ios) / result.seconds
    // Over by 10% is a failure; under is allowed generously on a busy machine.
    #expect(rate <= 2200, "\(rate) IOPS at a 2000 IOPS limit")
    #expect(rate >= 1000, "\(rate) IOPS at a 2000 IOPS limit")
  }

  @Test func qosHoldsABandwidthLimit() throws {
    let limit: UInt64 = 8 << 20  // 2048 4 KiB reads a second
    let result = try Self.limitedRun(QoSLimits(bytesPerSecond: limit))
    let rate = Double(result.ios) * 4096 / result.seconds
    #expect(rate <= Double(limit) * 1.1, "\(rate) B/s at a \(limit) B/s limit")
    #expect(rate >= Double(limit) * 0.5, "\(rate) B/s at a \(limit) B/s limit")
  }
}
