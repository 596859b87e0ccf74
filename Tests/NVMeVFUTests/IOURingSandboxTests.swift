import Control
import Foundation
import Glibc
import NVMeHostDriver
import TestSupport
import Testing

/// io_uring under the sandbox: what a ring's entries do is invisible to seccomp, so the
/// filter allows io_uring only when a namespace at start uses it; otherwise asking for
/// it later is an error reply, not a dead server.
@Suite struct IOURingSandboxTests {
  /// An io_uring namespace serves I/O under the filter (a missing syscall would kill
  /// the server with SIGSYS), and namespace_add may add another.
  @Test func anIOURingNamespaceServesUnderTheFilter() throws {
    let scratch = try TemporaryDirectory("uring-sandbox")
    let image = scratch.file("u.img")
    let server = try ServerProcess(
      in: scratch, backings: ["\(image),engine=io_uring"],
      arguments: [
        "--size", "16M", "--control", scratch.file("nvme.ctl"), "--image-dir", scratch.path,
      ])
    #expect(SandboxTests.status(server.pid, "Seccomp") == "2")
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let buffer = try host.allocate(64 << 10)
    fillStamped(buffer, lba: 64, stamp: 0x1_0172)
    try host.execute(.write(lba: 64, blocks: 128, buffer: buffer), on: queue)
    try host.execute(.flush(), on: queue)
    zero(buffer)
    try host.execute(.read(lba: 64, blocks: 128, buffer: buffer), on: queue)
    #expect(carries(buffer, lba: 64, stamp: 0x1_0172))
    let control = try ControlClient(path: scratch.file("nvme.ctl"))
    let added = try control.call(
      "namespace_add",
      ["backing": .string(scratch.file("v.img") + ",engine=io_uring"), "size": "4M"])
    #expect(added["nsid"] == 2)
    #expect(server.log.contains("engine=io_uring"), "the log names the engine")
    #expect(server.terminate() == .exited(0), "\(server.log)")
  }

  @Test func withoutOneAtStartNamespaceAddExplainsTheRefusal() throws {
    let scratch = try TemporaryDirectory("uring-refused")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:8M"],
      arguments: ["--control", scratch.file("nvme.ctl"), "--image-dir", scratch.path])
    let control = try ControlClient(path: scratch.file("nvme.ctl"))
    do {
      _ = try control.call(
        "namespace_add",
        ["backing": .string(scratch.file("u.img") + ",engine=io_uring"), "size": "4M"])
      Issue.record("io_uring was set up under a filter that should refuse it")
    } catch {
      #expect(error.message.contains("io_uring is not allowed here"), "\(error.message)")
    }
    // Still serving, and a libaio file is fine.
    let added = try control.call(
      "namespace_add", ["backing": .string(scratch.file("a.img")), "size": "4M"])
    #expect(added["nsid"] == 2)
    #expect(server.process.isRunning)
  }
}
