import BlockIO
import Glibc
import NVMe
import NVMeVFU
import POSIX
import TestSupport
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// DMA_UNMAP of a window a held Read will DMA into (the read's data moves
  /// when the backend completes it).
  ///
  /// memfd window: the spec's rule for mapped regions. No reply while the
  /// read is in flight; the reply comes after its data landed and its
  /// completion was posted; afterwards no byte of the window changes.
  ///
  /// Window shared without a descriptor: the server holds no reference into
  /// it (the read goes through a bounce buffer), so the reply comes at once,
  /// with no DMA message before it: QEMU waits for this reply holding its big
  /// lock and could not serve one. The read then finds the window gone and
  /// completes with Data Transfer Error, and no message reaches the window.
  @Test(arguments: GuestRAM.Sharing.allCases)
  func dmaUnmapUnderAReadLandsNothingAfterTheReply(sharing: GuestRAM.Sharing) throws {
    let held = try #require(TestBackend(size: 1 << 20, gated: true))
    let server = try InProcessServer { [held] }
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let data = try host.allocate(8192)
    fill(data, seed: 41)
    try queue.submit(.write(lba: 8, blocks: 16, buffer: data))
    held.release(1)
    try expectSuccess(queue)

    let window = try GuestRAM(
      client: host.client, base: 0x2_0000_0000, size: 65536, sharing: sharing)
    defer { window.releaseLocally() }
    window.bytes.initializeMemory(as: UInt8.self, repeating: 0xEE)
    let target = try #require(window.buffer(at: window.base + 4096, count: 8192))
    try queue.submit(.read(lba: 8, blocks: 16, buffer: target))
    #expect(ProcessProbe.eventually { held.snapshot.arrived == 2 })

    let socket = host.client.connection.socket
    let unmap = DMAUnmapRequest(address: window.base, size: UInt64(window.size))
    let id = try host.client.connection.sendCommand(.dmaUnmap, payload: unmap.encoded)
    switch sharing {
    case .memfd:
      #expect(ProcessProbe.eventually { held.snapshot.draining }, "the unmap waits on the read")
      let early = try UnixSocket.waitReadable(socket, timeoutMilliseconds: 300)
      #expect(!early, "nothing (no reply, no DMA) while the read is held")
      guard !early else { return }  // a server that replied early: leave the read held
      #expect(window.bytes.allSatisfy { $0 == 0xEE }, "no data before the backend has it")
      held.releaseAll()
      _ = try host.client.awaitReply(id: id)
      #expect(queue.hasCompletion, "the read completed before the unmap reply")
      try expectSuccess(queue)
      #expect(same(target, data), "the read's data landed before the reply")
    case .messages:
      // The very next message is the reply (awaitReply would serve a
      // DMA_WRITE coming first; this does not).
      var reply = try host.client.connection.receive(timeoutMilliseconds: 5000)
      reply.closeFDs()
      #expect(reply.header.kind == .reply && reply.header.id == id, "the reply, no DMA first")
      #expect(!held.snapshot.draining, "the unmap did not wait on the read")
      #expect(!queue.hasCompletion, "the read is still held")
      held.releaseAll()
      var status: NVMeStatus?
      try queue.process(timeoutMilliseconds: 5000) { status = $0.status }
      #expect(status == .dataTransferError, "the read found its window gone")
      #expect(window.bytes.allSatisfy { $0 == 0xEE }, "nothing reached the unmapped window")
    }
    let atReply = Array(window.bytes)

    // The server goes on working (another read, into the main RAM); the
    // unmapped window sees nothing of it or of the old read.
    let elsewhere = try host.allocate(8192)
    held.releaseAll()
    try host.execute(.read(lba: 8, blocks: 16, buffer: elsewhere), on: queue)
    #expect(same(elsewhere, data))
    let late = try UnixSocket.waitReadable(socket, timeoutMilliseconds: 200)
    #expect(!late, "no message from the server after the unmap reply")
    #expect(Array(window.bytes) == atReply, "no byte of the window changed after the reply")
    print(
      "DMA unmap under a held read (\(sharing.rawValue) window): \(sharing == .memfd ? "no reply for 300 ms while held, data landed before the reply" : "replied at once, the read failed with Data Transfer Error"), window unchanged after the reply"
    )
  }
}
