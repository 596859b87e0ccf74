import Glibc
import NVMe
import NVMeHostDriver
import TestSupport
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// A whole-function reset (the guest's FLR as a config write, or the
  /// client's DEVICE_RESET) with writes and reads held in the backend: the
  /// ones completed before stay completed and durable, the rest complete
  /// nowhere and are aborted by the host, nothing touches guest memory once
  /// the reset is answered, and controller registers and config space are
  /// back at their defaults. The function then comes up again.
  @Test(arguments: [NVMeHost.FunctionReset.initiateFLR, .deviceReset])
  func functionResetMidIO(how: NVMeHost.FunctionReset) throws {
    let held = try #require(TestBackend(size: 1 << 20, gated: true))
    let server = try InProcessServer { [held] }
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let writes = try (0..<4).map { _ in try host.allocate(4096) }
    let reads = try (0..<4).map { _ in try host.allocate(4096) }
    for (index, buffer) in writes.enumerated() {
      fill(buffer, seed: UInt8(index + 40))
      try queue.submit(
        .write(lba: UInt64(index * 8), blocks: 8, buffer: buffer), tag: UInt64(index))
    }
    for (index, buffer) in reads.enumerated() {
      buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xEE)
      try queue.submit(
        .read(lba: UInt64(64 + index * 8), blocks: 8, buffer: buffer), tag: UInt64(4 + index))
    }
    #expect(ProcessProbe.eventually { held.snapshot.arrived == 8 })
    // The first two writes are acknowledged before the reset.
    held.release(2)
    var outcomes = [Int](repeating: 0, count: 8)
    try queue.process(minimum: 2, timeoutMilliseconds: 5000) { completion in
      outcomes[Int(completion.tag)] += 1
      #expect(completion.isSuccess && completion.tag < 2)
    }

    held.setReleaseOnDrain(true)
    var late = 0
    try host.resetFunction(how) { _, completion in
      outcomes[Int(completion.tag)] += 1
      if !completion.abortedByHost { late += 1 }
    }
    #expect(held.snapshot.completed == 8, "the reset drained the backend before its reply")
    #expect(late == 0, "no completion posted by the reset")
    #expect(outcomes == [Int](repeating: 1, count: 8), "each command once")

    // Guest memory stays as the reset left it.
    let snapshot = reads.map { Array($0.bytes) }
    let client = host.client
    #expect(try client.regionRead32(0, offset: RegisterOffset.cc) == 0)
    #expect(try client.regionRead32(0, offset: RegisterOffset.csts) & 1 == 0)
    #expect(try client.regionRead32(0, offset: RegisterOffset.aqa) == 0)
    #expect(try client.regionRead32(0, offset: RegisterOffset.asq) == 0)
    let config: UInt32 = 7  // the PCI config region
    #expect(try client.regionRead32(config, offset: 0x04) & 0xFFFF == 0, "command cleared")
    #expect(try client.regionRead32(config, offset: 0x10) & ~0xF == 0, "BAR0 cleared")
    #expect(try client.regionRead32(config, offset: 0x68) & 0x8000 == 0, "FLR bit reads 0")
    #expect(try client.regionRead32(config, offset: 0x50) >> 31 == 0, "MSI-X disabled")
    usleep(200_000)
    #expect(reads.map { Array($0.bytes) } == snapshot, "no DMA after the reset")
    #expect(!queue.hasCompletion)

    held.setReleaseOnDrain(false)
    held.releaseAll()
    try host.enableController()
    let again = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    for (index, buffer) in writes.prefix(2).enumerated() {
      let target = try host.allocate(4096)
      try host.execute(.read(lba: UInt64(index * 8), blocks: 8, buffer: target), on: again)
      #expect(same(target, buffer), "acknowledged write \(index) survived")
    }
    #expect(!again.hasCompletion, "no stale completion shows up")
  }
}
