import BackendContract
import Foundation
import Glibc
import TestSupport
import Testing

@testable import BlockIO

/// A cluster that goes away under I/O and comes back: requests must fail
/// within the operation timeout, not hang the namespace, and what was
/// acknowledged as flushed must be there when the cluster returns. Runs on a
/// cluster of its own (on other ports than the shared one), since it freezes
/// it; where CEPH_CONF is set, Ceph is installed and this runs too.
@Suite struct RBDDeadClusterTests {
  static let script = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ceph/cluster.sh").path

  /// Runs `cluster.sh VERB DIR` on ports apart from the shared cluster's; its stdout.
  @discardableResult
  static func cluster(_ verb: String, _ dir: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script, verb, dir]
    var environment = ProcessInfo.processInfo.environment
    environment["CEPH_TEST_MON_V2_PORT"] = "13320"
    environment["CEPH_TEST_MON_V1_PORT"] = "13321"
    environment["CEPH_TEST_OSD_PORT_MIN"] = "13400"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw Ceph.CommandFailed(description: "cluster.sh \(verb) \(dir) failed")
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test func requestsFailWithinTheTimeoutAndFlushedDataSurvives() throws {
    guard Ceph.conf(for: #function) != nil else { return }
    let dir = "/tmp/rbd-cluster-dead-\(getpid())"
    let conf = try Self.cluster("start", dir)
    defer { _ = try? Self.cluster("stop", dir) }
    try Ceph.rbd(conf, ["create", "rbd/dying", "--size", "16M"])
    let spec = RBDSpec(pool: "rbd", image: "dying", conf: conf)
    let old = IOBuffer(bytes: 4096)
    old.fill(seed: 2)
    // Written by an earlier client, so not in the next one's cache: reading it
    // must reach the OSD.
    do {
      let seeding = try RBDBackend(spec: spec, timeout: 3)
      defer { seeding.close() }
      #expect(seeding.write(old, at: 8 << 20) == 0)
      #expect(seeding.range(.flush, at: 0, length: 0) == 0)
    }
    let backend = try RBDBackend(spec: spec, timeout: 3)
    defer { backend.close() }
    let flushed = IOBuffer(bytes: 4096)
    flushed.fill(seed: 3)
    #expect(backend.write(flushed, at: 0) == 0)
    #expect(backend.range(.flush, at: 0, length: 0) == 0)

    try Self.cluster("pause", dir)
    let clock = ContinuousClock()
    let started = clock.now
    let later = IOBuffer(bytes: 4096)
    later.fill(seed: 4)
    let fresh = IOBuffer(bytes: 4096)
    // librbd's cache is off: the write and the read must reach the OSD, and
    // fail. (The flush has nothing acknowledged to make durable.)
    let results = backend.run([
      BlockRequest(operation: .write, offset: 0, length: 4096, iovecs: later.iovecs, tag: 1),
      BlockRequest(operation: .read, offset: 8 << 20, length: 4096, iovecs: fresh.iovecs, tag: 2),
      BlockRequest(operation: .flush, offset: 0, length: 0, tag: 3),
    ])
    let took = clock.now - started
    print("cluster paused: results \(results.sorted { $0.key < $1.key }) after \(took)")
    #expect(took < .seconds(30), "took \(took)")
    #expect(results[1] != 0, "a write the cluster must answer fails")
    #expect(results[2] != 0, "a read the cluster must answer fails")

    try Self.cluster("resume", dir)
    // The same backend serves again, and reads what was flushed (or the write
    // after it, which the OSD may have applied once it went on).
    let back = IOBuffer(bytes: 4096)
    #expect(backend.read(back, at: 0) == 0)
    #expect(back.array == flushed.array || back.array == later.array)
    #expect(backend.read(back, at: 8 << 20) == 0)
    expectBytes(back.array, old.array)
    let closing = clock.now
    backend.close()
    #expect(clock.now - closing < .seconds(30), "close took \(clock.now - closing)")
    let again = try RBDBackend(spec: spec, timeout: 3)
    defer { again.close() }
    let reread = again.contents(at: 0, count: 4096)
    #expect(reread == flushed.array || reread == later.array, "flushed data survives")
  }
}
