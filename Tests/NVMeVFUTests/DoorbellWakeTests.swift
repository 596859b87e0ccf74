import Foundation
import Glibc
import NVMe
import NVMeHostDriver
import NVMeVFU
import Testing

/// Trapped doorbells: an idle reactor sleeps with no timeout, and one
/// doorbell message wakes it.
extension NVMeVFUTests {
  /// The reactor thread's current system call and its arguments, from
  /// /proc: "271 0x... 0x... 0x0 ..." is ppoll with no timeout on x86_64.
  static func reactorSyscall(_ server: InProcessServer) -> [String] {
    ProcessProbe.contents(of: "/proc/self/task/\(server.reactorThreadID)/syscall")
      .split(separator: " ").map(String.init)
  }

  /// Whether the reactor sits in ppoll with a NULL timeout (x86_64 only;
  /// elsewhere the check is skipped and only the wake is tested).
  static func sleepsWithoutTimeout(_ server: InProcessServer) -> Bool? {
    #if arch(x86_64)
      let fields = reactorSyscall(server)
      guard fields.count >= 4 else { return false }
      return fields[0] == "271" && fields[3] == "0x0"
    #else
      return nil
    #endif
  }

  @Test func aSleepingReactorWakesOnOneTrappedDoorbell() throws {
    let server = try InProcessServer(doorbells: .trapped)
    defer { server.shutdown() }
    let host = try server.host()
    #expect(!host.doorbellsMapped, "trapped: BAR0 offers nothing to mmap")
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let buffer = try host.allocate(4096)
    for round in 0..<3 {
      // Well past the 200 us spin: asleep, and with no timeout to come round.
      usleep(50_000)
      if Self.sleepsWithoutTimeout(server) != nil {
        #expect(
          ProcessProbe.eventually(seconds: 2) { Self.sleepsWithoutTimeout(server) == true },
          "round \(round): ppoll without timeout, got \(Self.reactorSyscall(server))")
      }
      // One read: its SQ doorbell is the only message, and it must wake the
      // reactor (there is no timeout that would).
      try host.execute(.read(lba: UInt64(round * 8), blocks: 8, buffer: buffer), on: queue)
    }
  }

  @Test func mappedDoorbellsKeepTheTimedLook() throws {
    let server = try InProcessServer(doorbells: .mapped)
    defer { server.shutdown() }
    let host = try server.host()
    #expect(host.doorbellsMapped)
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let buffer = try host.allocate(4096)
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
    usleep(50_000)
    // A store into the mapped page wakes nobody: the reactor must look on a
    // timer, so it never sleeps without one.
    for _ in 0..<20 {
      #expect(Self.sleepsWithoutTimeout(server) != true, "\(Self.reactorSyscall(server))")
      usleep(2_000)
    }
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
  }

  /// A host that never sets up shadow buffers (this one rings every doorbell
  /// by message) is served correctly in trapped mode, at every queue depth.
  @Test(arguments: [DoorbellMode.trapped, .mapped])
  func doorbellsWithoutShadowBuffersMoveData(mode: DoorbellMode) throws {
    let server = try InProcessServer(doorbells: mode)
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 64))
    let source = try host.allocate(32 * 4096)
    let target = try host.allocate(32 * 4096)
    fill(source, seed: 77)
    for index in 0..<32 {
      let block = try #require(source.slice(offset: index * 4096, count: 4096))
      try queue.submit(.write(lba: UInt64(index * 8), blocks: 8, buffer: block))
    }
    try expectSuccesses(queue, 32)
    for index in 0..<32 {
      let block = try #require(target.slice(offset: index * 4096, count: 4096))
      try queue.submit(.read(lba: UInt64(index * 8), blocks: 8, buffer: block))
    }
    try expectSuccesses(queue, 32)
    #expect(same(source, target))
  }
}

/// `count` completions on `queue`, all successes.
func expectSuccesses(
  _ queue: NVMeQueue, _ count: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  var statuses: [NVMeStatus] = []
  try queue.process(minimum: count, timeoutMilliseconds: 5000) { statuses.append($0.status) }
  #expect(
    statuses.count == count && statuses.allSatisfy { $0 == .success },
    sourceLocation: sourceLocation)
}
