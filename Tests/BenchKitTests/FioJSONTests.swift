import Foundation
import Testing

@testable import BenchKit

/// `perf --output-format json` decoded as fio's tools decode fio's: the
/// fields at the paths and in the types fio 3.x writes.
@Suite struct FioJSONTests {
  static func decode(_ result: PerfResult) throws -> [String: Any] {
    let text = PerfReport.json(result)
    #expect(!text.contains("\n"), "one line")
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(object as? [String: Any])
  }

  static func job(_ report: [String: Any]) throws -> [String: Any] {
    let jobs = try #require(report["jobs"] as? [[String: Any]])
    #expect(jobs.count == 1)
    return try #require(jobs.first)
  }

  @Test func readsAndWritesApartInFiosLayout() throws {
    let job = try Self.job(Self.decode(PerfReportTests.result()))
    #expect(job["jobname"] as? String == "randrw")
    let read = try #require(job["read"] as? [String: Any])
    let write = try #require(job["write"] as? [String: Any])
    // 150,000 reads and 50,000 writes of 4 KiB in 2 s.
    #expect(read["iops"] as? Double == 75_000)
    #expect(write["iops"] as? Double == 25_000)
    #expect(read["total_ios"] as? Int == 150_000)
    #expect(write["total_ios"] as? Int == 50_000)
    #expect(read["io_bytes"] as? Int == 150_000 * 4096)
    #expect(read["bw_bytes"] as? Int == 150_000 * 4096 / 2)
    #expect(read["bw"] as? Int == 150_000 * 4096 / 2 / 1024)
    #expect(read["runtime"] as? Int == 2000, "milliseconds")
    let readLatency = try #require(read["lat_ns"] as? [String: Any])
    #expect(readLatency["min"] as? Int == 1000)
    #expect(readLatency["max"] as? Int == 1000)
    #expect(readLatency["mean"] as? Double == 1000)
    #expect(readLatency["stddev"] as? Double == 0)
    let writeLatency = try #require(write["lat_ns"] as? [String: Any])
    #expect(writeLatency["min"] as? Int == 1000)
    #expect(writeLatency["max"] as? Int == 2000)
    #expect(writeLatency["mean"] as? Double == 1500)
    #expect(writeLatency["stddev"] as? Double == 500)
    let percentiles = try #require(writeLatency["percentile"] as? [String: Any])
    #expect(percentiles["50.000000"] as? Int == 1000)
    #expect(percentiles["99.000000"] as? Int == 2000)
    #expect(percentiles["99.990000"] as? Int == 2000)
    #expect(percentiles.count == DirectionFigures.percentiles.count)
    let clat = try #require(write["clat_ns"] as? [String: Any])
    #expect(clat["percentile"] != nil)
    #expect(job["usr_cpu"] as? Double == 25, "0.5 s of 2 s")
    #expect(job["sys_cpu"] as? Double == 12.5)
  }

  @Test func anUnusedDirectionIsZeroes() throws {
    var plan = PerfReportTests.plan
    plan.rw = .randread
    var result = PerfReportTests.result(plan: plan)
    result.writes = 0
    result.writeHistogram.reset()
    let job = try Self.job(Self.decode(result))
    let write = try #require(job["write"] as? [String: Any])
    #expect(write["iops"] as? Double == 0)
    #expect(write["runtime"] as? Int == 0)
    let latency = try #require(write["lat_ns"] as? [String: Any])
    #expect(latency["max"] as? Int == 0)
    #expect(latency["percentile"] == nil)
    #expect(job["trim"] is [String: Any])
  }

  @Test func theBenchsOwnFiguresUnderItsName() throws {
    let report = try Self.decode(PerfReportTests.result(serverCPU: 1.5))
    let flat = try #require(report["nvme-vfu"] as? [String: Any])
    #expect(flat["iops"] as? Double == 100_000)
    #expect(flat["ios"] as? Int == 200_000)
    #expect(flat["server_cpu_s"] as? Double == 1.5)
    #expect(flat["interrupted_by"] is NSNull)
  }
}
