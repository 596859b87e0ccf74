import BlockIO
import Glibc
import NVMe
import NVMeHostDriver
import NVMeVFU
import POSIX
import TestSupport
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// DMA_UNMAP of a window that in-flight I/O points into is answered only
  /// after that I/O finished (and completed into its queue).
  @Test func dmaUnmapWaitsForInFlightIO() throws {
    let held = try #require(TestBackend(size: 1 << 20, gated: true))
    let server = try InProcessServer { [held] }
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    // The data lives in a window of its own, so unmapping it leaves the queues.
    let window = try GuestRAM(client: host.client, base: 0x2_0000_0000, size: 65536)
    let source = try window.allocate(8192)
    fill(source, seed: 77)
    try queue.submit(.write(lba: 8, blocks: 16, buffer: source))
    #expect(ProcessProbe.eventually { held.snapshot.arrived == 1 })

    let unmap = DMAUnmapRequest(address: window.base, size: UInt64(window.size))
    let id = try host.client.connection.sendCommand(.dmaUnmap, payload: unmap.encoded)
    #expect(ProcessProbe.eventually { held.snapshot.draining }, "the unmap waits on the I/O")
    let early = try UnixSocket.waitReadable(
      host.client.connection.socket, timeoutMilliseconds: 300)
    #expect(!early, "no DMA_UNMAP reply while the write is in flight")
    #expect(!queue.hasCompletion)

    held.releaseAll()
    _ = try host.client.awaitReply(id: id)
    // By the time the reply came the write had completed into the queue.
    #expect(queue.hasCompletion, "the completion was posted before the unmap reply")
    #expect(held.snapshot.completed == 1)
    try expectSuccess(queue)
    let written = Array(source.bytes)
    window.releaseLocally()

    let target = try host.allocate(8192)
    try host.execute(.read(lba: 8, blocks: 16, buffer: target), on: queue)
    #expect(Array(target.bytes) == written, "the data was taken while still mapped")
  }

  /// CC.EN = 0 with commands held in the backend: the ones released before
  /// complete, the rest are aborted by the host, each exactly once; the
  /// controller comes back and serves I/O.
  @Test func resetMidIOCompletesOrAbortsEachCommandOnce() throws {
    let held = try #require(TestBackend(size: 1 << 20, gated: true))
    let server = try InProcessServer { [held] }
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let buffers = try (0..<8).map { _ in try host.allocate(4096) }
    for (index, buffer) in buffers.enumerated() {
      fill(buffer, seed: UInt8(index))
      try queue.submit(
        .write(lba: UInt64(index * 8), blocks: 8, buffer: buffer), tag: UInt64(index))
    }
    #expect(ProcessProbe.eventually { held.snapshot.arrived == 8 })
    var outcomes = [Int](repeating: 0, count: 8)
    var completed = 0
    var aborted = 0
    held.release(3)
    try queue.process(minimum: 3, timeoutMilliseconds: 5000) { completion in
      outcomes[Int(completion.tag)] += 1
      #expect(completion.isSuccess)
      completed += 1
    }
    held.setReleaseOnDrain(true)
    try host.resetController { _, completion in
      outcomes[Int(completion.tag)] += 1
      if completion.abortedByHost {
        #expect(completion.status == NVMeCompletion.abortedByHost)
        aborted += 1
      } else {
        completed += 1
      }
    }
    #expect(outcomes == [Int](repeating: 1, count: 8), "each command once")
    #expect(completed == 3)
    #expect(aborted == 5)
    #expect(try host.controllerStatus() & 1 == 0)
    #expect(host.ioQueues.isEmpty)

    held.setReleaseOnDrain(false)
    held.releaseAll()
    try host.enableController()
    #expect(try host.controllerStatus() & 1 == 1)
    let again = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let target = try host.allocate(4096)
    try host.execute(.write(lba: 100, blocks: 8, buffer: buffers[0]), on: again)
    try host.execute(.read(lba: 100, blocks: 8, buffer: target), on: again)
    #expect(same(target, buffers[0]))
    #expect(!again.hasCompletion, "no stale completion shows up")
  }

  /// Resets racing a full queue of fast I/O: whatever completed before the
  /// reset is reaped, the rest aborted, never both or neither.
  @Test func resetUnderLoadAccountsForEveryCommand() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host()
    let buffer = try host.allocate(4096)
    for round in 0..<6 {
      let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 32))
      let count = queue.capacity
      for index in 0..<count {
        try queue.submit(
          .write(lba: UInt64(index * 8), blocks: 8, buffer: buffer), tag: UInt64(index),
          ring: index % 8 == 7 || index == count - 1)
        if round % 2 == 1 && index == count / 2 { usleep(200) }
      }
      var outcomes = [Int](repeating: 0, count: count)
      try host.resetController { _, completion in outcomes[Int(completion.tag)] += 1 }
      #expect(outcomes == [Int](repeating: 1, count: count), "round \(round)")
      try host.enableController()
    }
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 32))
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
  }

  /// An attached, idle controller costs the adaptive reactor little CPU.
  @Test func idleConnectedReactorStaysNearlyIdle() throws {
    let server = try InProcessServer(mode: .adaptive)
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 2, entries: 64))
    let buffer = try host.allocate(4096)
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
    let before = try #require(server.reactorCPUSeconds())
    let start = MonotonicClock.nanoseconds()
    usleep(2_000_000)
    let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
    let used = try #require(server.reactorCPUSeconds()) - before
    let share = used / elapsed
    print("idle reactor: \(used) s CPU in \(elapsed) s = \(Int(share * 100))% of one core")
    #expect(share < 0.30)
    // Still responsive after the quiet spell.
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
  }

  /// Clients that vanish mid-I/O (no unmap, no reset, socket just closed)
  /// leave the server accepting the next one, with no descriptor or mapping
  /// left behind.
  @Test func abruptDisconnectsLeakNothing() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let name = "nvme-host-leak-probe"
    func cycle(_ round: Int) throws {
      let host = try server.host {
        $0.ramName = name
        $0.completionMode = round % 2 == 0 ? .poll : .interrupt
        $0.ramSize = 1 << 20
      }
      let queue = try firstQueue(host, try host.createIOQueues(count: 2, entries: 8))
      let buffer = try host.allocate(4096)
      try host.execute(.write(lba: 0, blocks: 8, buffer: buffer), on: queue)
      // Leave some I/O in flight, then vanish.
      try queue.submit(.read(lba: 0, blocks: 8, buffer: buffer))
      try queue.submit(.write(lba: 8, blocks: 8, buffer: buffer))
    }
    try cycle(-1)  // warm up whatever the first connection creates lazily
    #expect(ProcessProbe.eventually { ProcessProbe.mappings(named: name) == 0 })
    let baseline = ProcessProbe.openDescriptorCount()
    for round in 0..<20 { try cycle(round) }
    #expect(
      ProcessProbe.eventually { ProcessProbe.mappings(named: name) == 0 },
      "every guest RAM window unmapped on both sides")
    #expect(ProcessProbe.eventually { ProcessProbe.descriptors(named: name) == 0 })
    #expect(
      ProcessProbe.eventually { ProcessProbe.openDescriptorCount() <= baseline },
      "descriptors: \(ProcessProbe.openDescriptorCount()) now, \(baseline) before")
    // And the server still serves.
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let buffer = try host.allocate(4096)
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
  }
}
