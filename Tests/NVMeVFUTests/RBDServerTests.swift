import Control
import Foundation
import Glibc
import NVMe
import NVMeHostDriver
import TestSupport
import Testing

/// The server on an RBD namespace beside a memory one, sandboxed: librbd's threads
/// live under the seccomp filter too (TSYNC), so a call the allowlist lacks would
/// kill the server. The cluster is one of its own (other ports than the shared one
/// CEPH_CONF names), since the test freezes it.
@Suite struct RBDServerTests {
  /// While the cluster is frozen, the RBD namespace's commands fail within
  /// --rbd-timeout with an error status, and the memory namespace and the control
  /// socket go on serving; once it returns, the RBD namespace serves again and
  /// holds what was flushed. namespace_add refuses another RBD image under the
  /// sandbox in one line.
  @Test func anRBDNamespaceServesUnderTheSandboxAndOutlivesAFrozenCluster() throws {
    guard ProcessInfo.processInfo.environment["CEPH_CONF"] != nil else {
      print("SKIP: \(#function): CEPH_CONF is not set (Tests/ceph/cluster.sh start DIR prints one)")
      return
    }
    let cluster = try PrivateCephCluster(name: "rbd-server-cluster", portBase: 13340)
    defer { cluster.stop() }
    let conf = cluster.conf
    let create = try ChildProcess(
      "/usr/bin/rbd", ["--conf", conf, "create", "rbd/vm", "--size", "32M"], output: .pipe)
    #expect(create.waitForExit() == .exited(0), "rbd create: \(create.readAll())")

    let scratch = try TemporaryDirectory("rbd-server")
    let server = try ServerProcess(
      in: scratch, backings: ["rbd:rbd/vm,conf=\(conf)", "mem:16M"],
      arguments: ["--control", scratch.file("nvme.ctl"), "--rbd-timeout", "3"])
    #expect(SandboxTests.status(server.pid, "Seccomp") == "2")
    #expect(server.log.contains("namespace 1: rbd:rbd/vm"), "\(server.log)")
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let buffer = try host.allocate(64 << 10)
    for namespace: UInt32 in [1, 2] {
      fillStamped(buffer, lba: 64, stamp: 0x2_0000 + UInt64(namespace))
      try host.execute(
        .write(namespace: namespace, lba: 64, blocks: 128, buffer: buffer), on: queue)
      try host.execute(.flush(namespace: namespace), on: queue)
      zero(buffer)
      try host.execute(
        .read(namespace: namespace, lba: 64, blocks: 128, buffer: buffer), on: queue)
      #expect(carries(buffer, lba: 64, stamp: 0x2_0000 + UInt64(namespace)))
    }

    try cluster.pause()
    let clock = ContinuousClock()
    let started = clock.now
    var status: NVMeStatus?
    // librbd's cache is off, so the write itself must reach the OSD.
    do {
      try host.execute(.write(namespace: 1, lba: 16384, blocks: 8, buffer: buffer), on: queue)
      try host.execute(.flush(namespace: 1), on: queue)
    } catch {
      status = error.status
    }
    let took = clock.now - started
    print(
      "frozen cluster: write + flush failed with \(status.map { "\($0)" } ?? "nothing") after \(took)"
    )
    #expect(status != nil, "a write the cluster must answer fails")
    #expect(took < .seconds(20), "within the timeout, not hung: \(took)")
    // Meanwhile the other namespace and the control plane serve.
    try host.execute(.read(namespace: 2, lba: 64, blocks: 128, buffer: buffer), on: queue)
    #expect(carries(buffer, lba: 64, stamp: 0x2_0002))
    let control = try ControlClient(path: scratch.file("nvme.ctl"))
    _ = try control.call("get_stats", [:])
    do {
      _ = try control.call("namespace_add", ["backing": .string("rbd:rbd/other,conf=\(conf)")])
      Issue.record("namespace_add opened an RBD image under the sandbox")
    } catch {
      #expect(error.message.contains("--sandbox off"), "\(error.message)")
    }

    try cluster.resume()
    zero(buffer)
    try host.execute(.read(namespace: 1, lba: 64, blocks: 128, buffer: buffer), on: queue)
    #expect(carries(buffer, lba: 64, stamp: 0x2_0001), "flushed data is there after the return")
    #expect(server.process.isRunning)
    #expect(server.terminate() == .exited(0), "\(server.log)")
  }
}
