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
  @Test func requestsFailWithinTheTimeoutAndFlushedDataSurvives() throws {
    guard Ceph.conf(for: #function) != nil else { return }
    let cluster = try PrivateCephCluster(name: "rbd-cluster-dead", portBase: 13320)
    defer { cluster.stop() }
    let conf = cluster.conf
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

    try cluster.pause()
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

    try cluster.resume()
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
