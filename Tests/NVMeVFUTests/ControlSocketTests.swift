import Control
import Foundation
import Glibc
import NVMe
import NVMeHostDriver
import NVMeVFU
import TestSupport
import Testing

/// The control socket of the real `nvme-vfu-server` binary: every method and
/// the errors an operator can provoke, and changes the host sees.
@Suite(.serialized) struct ControlSocketTests {
  final class Fixture {
    let scratch: TemporaryDirectory
    let server: ServerProcess
    let control: ControlClient
    var controlPath: String { "\(scratch.path)/nvme.ctl" }

    init(backings: [String] = ["mem:8M"], arguments: [String] = []) throws {
      scratch = try TemporaryDirectory("control")
      server = try ServerProcess(
        in: scratch, backings: backings,
        arguments: ["--control", "\(scratch.path)/nvme.ctl"] + arguments)
      // No retry: the control socket is bound before the vfio-user one that
      // ServerProcess waits for, so it is there once that one is.
      control = try ControlClient(path: "\(scratch.path)/nvme.ctl")
    }
  }

  static func code(_ body: () throws(JSONRPC.ErrorObject) -> JSONValue) -> Int? {
    do {
      _ = try body()
      return nil
    } catch {
      return error.code
    }
  }

  @Test func getConfigIsTheConfigFileFormat() throws {
    let images = try TemporaryDirectory("control-images")
    let fixture = try Fixture(arguments: [
      "--serial", "CTLTEST1", "--io-queues", "3", "--image-dir", images.path,
    ])
    let config = try fixture.control.call("get_config")
    let parsed = try ConfigFile.parse(config)
    #expect(parsed.imageDirectories == [images.path])
    #expect(parsed.serialNumber == "CTLTEST1")
    #expect(parsed.ioQueues == 3)
    #expect(parsed.namespaces.map(\.backing.description) == ["mem:8M"])
    #expect(parsed.controlPath == fixture.controlPath)
  }

  @Test func errorsAreJSONRPCErrorObjects() throws {
    let fixture = try Fixture()
    let control = fixture.control
    #expect(Self.code { () throws(JSONRPC.ErrorObject) in try control.call("nope") } == -32601)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in try control.call("namespace_remove") }
        == -32602)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try control.call("namespace_remove", ["nsid": "1"])
      } == -32602)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try control.call("namespace_remove", ["nsid": 9])
      } == -32000)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try control.call("set_log_level", ["level": "loud"])
      } == -32602)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try control.call("namespace_add", ["backing": "mem:1000"])
      } == -32000)  // not a multiple of 512
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try control.call("namespace_resize", ["nsid": 1, "size": 1000])
      } == -32000)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in try control.call("get_stats", ["x": 1]) }
        == -32602)
    // Still serving.
    #expect(try control.call("get_stats")["namespaces"]?.arrayValue?.count == 1)
  }

  @Test func aLockedImageIsRefused() throws {
    let scratch = try TemporaryDirectory("control-lock")
    let image = "\(scratch.path)/disk.img"
    let fixture = try Fixture(
      backings: [image], arguments: ["--size", "4M", "--image-dir", scratch.path])
    do {
      _ = try fixture.control.call("namespace_add", ["backing": .string(image)])
      Issue.record("the same image was attached twice")
    } catch {
      #expect(error.code == -32000)
      #expect(error.message.contains("lock"))
    }
  }

  @Test func moreNamespacesThanOfferedAreRefused() throws {
    let fixture = try Fixture(arguments: ["--max-namespaces", "2"])
    #expect(try fixture.control.call("namespace_add", ["backing": "mem:4M"])["nsid"] == 2)
    do {
      _ = try fixture.control.call("namespace_add", ["backing": "mem:4M"])
      Issue.record("a third namespace on a controller of two")
    } catch {
      #expect(error.code == -32000)
      #expect(error.message.contains("in use"))
    }
  }

  @Test func setLogLevelChangesWhatTheServerLogs() throws {
    let fixture = try Fixture()
    let reply = try fixture.control.call("set_log_level", ["level": "warning"])
    #expect(reply["previous"] == "info")
    _ = try fixture.control.call("namespace_add", ["backing": "mem:4M"])
    _ = try fixture.control.call("set_log_level", ["level": "info"])
    _ = try fixture.control.call("namespace_add", ["backing": "mem:4M"])
    usleep(100_000)
    #expect(!fixture.server.log.contains("namespace 2 added"))
    #expect(fixture.server.log.contains("namespace 3 added"))
    #expect(try fixture.control.call("get_config")["log_level"] == "info")
  }

  @Test func qosIsSetReadAndRemoved() throws {
    let fixture = try Fixture()
    let set = try fixture.control.call("set_qos", ["nsid": 1, "iops": 500])
    #expect(set["iops"] == 500)
    _ = try fixture.control.call("set_qos", ["nsid": 1, "bytes_per_second": "1M"])
    let both = try fixture.control.call("get_qos", ["nsid": 1])["namespaces"]?.arrayValue?.first
    #expect(both?["iops"] == 500)
    #expect(both?["bytes_per_second"] == .unsigned(1 << 20))
    let config = try fixture.control.call("get_config")
    #expect(config["namespaces"]?.arrayValue?.first?["qos"]?["iops"] == 500)
    _ = try fixture.control.call("set_qos", ["nsid": 1, "iops": 0, "bytes_per_second": 0])
    let none = try fixture.control.call("get_qos")["namespaces"]?.arrayValue?.first
    #expect(none?["iops"] == 0)
    #expect(try fixture.control.call("get_config")["namespaces"]?.arrayValue?.first?["qos"] == nil)
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try fixture.control.call("set_qos", ["nsid": 4, "iops": 1])
      } == -32000)
  }

  /// Hot-add, resize and removal as a host sees them: an async event for each,
  /// the NSID in the Changed Namespace List, Identify showing the change, and
  /// I/O counted in get_stats.
  @Test func theHostSeesNamespacesComeAndGo() throws {
    let fixture = try Fixture()
    let host = try fixture.server.host()
    let page = try host.allocate(4096)
    // As Linux does: enable Namespace Attribute Notices (Set Features 0Bh, bit 8).
    try host.admin(
      NVMeCommand(opcode: AdminOpcode.setFeatures.rawValue, cdw10: 0x0B, cdw11: 1 << 8))
    try host.parkAsyncEvent()
    let added = try fixture.control.call("namespace_add", ["backing": "mem:4M"])
    #expect(added["nsid"] == 2)
    // Notice (type 2), Namespace Attribute Changed (00h), log page 04h.
    #expect(try host.awaitAsyncEvent() == 0x0004_0002)
    let changed = try host.logPage(0x04, bytes: 8, into: page)
    #expect(changed[0..<4] == [2, 0, 0, 0])
    #expect(try host.identifyNamespace(2).nsze == (4 << 20) / 512)

    let queue = try #require(try host.createIOQueues(count: 1, entries: 8).first)
    let data = try host.allocate(4096)
    for index in 0..<4096 { data.bytes[index] = UInt8(truncatingIfNeeded: index * 7) }
    try host.execute(.write(namespace: 2, lba: 8, blocks: 8, buffer: data), on: queue)

    try host.parkAsyncEvent()
    _ = try fixture.control.call("namespace_resize", ["nsid": 2, "size": "8M"])
    #expect(try host.awaitAsyncEvent() == 0x0004_0002)
    // Reading the log acknowledges the event; until then no other of its kind comes.
    #expect(try host.logPage(0x04, bytes: 8, into: page)[0..<4] == [2, 0, 0, 0])
    #expect(try host.identifyNamespace(2).nsze == (8 << 20) / 512)
    let back = try host.allocate(4096)
    try host.execute(.read(namespace: 2, lba: 8, blocks: 8, buffer: back), on: queue)
    #expect(Array(back.bytes) == Array(data.bytes))  // kept across the resize
    // Shrinking below what was written needs force.
    #expect(
      Self.code { () throws(JSONRPC.ErrorObject) in
        try fixture.control.call("namespace_resize", ["nsid": 2, "size": 2048])
      } == -32000)

    let stats = try fixture.control.call("get_stats")
    let ns2 = stats["namespaces"]?.arrayValue?.first { $0["nsid"] == 2 }
    #expect(ns2?["writes"] == 1)
    #expect(ns2?["reads"] == 1)
    #expect(ns2?["bytes_written"] == 4096)
    let io = stats["queues"]?.arrayValue?.first { $0["qid"] == 1 }
    #expect(io?["bytes_read"] == 4096)

    try host.parkAsyncEvent()
    _ = try fixture.control.call("namespace_remove", ["nsid": 2])
    #expect(try host.awaitAsyncEvent() == 0x0004_0002)
    #expect(try host.identifyNamespace(2).nsze == 0)  // inactive: zeroed
    #expect(
      try host.status(of: .read(namespace: 2, lba: 0, blocks: 1, buffer: back), on: queue)
        == .invalidNamespaceOrFormat)
    #expect(try fixture.control.call("get_config")["namespaces"]?.arrayValue?.count == 1)
  }

  @Test func theMetricsFileIsPrometheusText() throws {
    let scratch = try TemporaryDirectory("metrics")
    let metrics = "\(scratch.path)/nvme.prom"
    let fixture = try Fixture(arguments: [
      "--metrics-file", metrics, "--metrics-interval", "1",
    ])
    let host = try fixture.server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 8).first)
    let data = try host.allocate(4096)
    for _ in 0..<16 { try host.execute(.read(lba: 0, blocks: 8, buffer: data), on: queue) }
    var text = ""
    for _ in 0..<50 {
      text = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
      if text.contains("nvme_vfu_reads_total{nsid=\"1\"} 16") { break }
      usleep(100_000)
    }
    #expect(text.contains("nvme_vfu_reads_total{nsid=\"1\"} 16"))
    #expect(text.contains("nvme_vfu_read_bytes_total{nsid=\"1\"} 65536"))
    #expect(text.contains("# TYPE nvme_vfu_read_latency_seconds histogram"))
    #expect(text.contains("nvme_vfu_read_latency_seconds_count{nsid=\"1\"} 2"))  // 1 in 8 sampled
    _ = fixture
  }
}
