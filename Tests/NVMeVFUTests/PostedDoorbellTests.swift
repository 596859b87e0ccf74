import NVMe
import POSIX
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// Doorbells the host cannot map are posted REGION_WRITEs: I/O completes,
  /// every doorbell is one message, and none waits for a reply. (Real
  /// doorbells only: with shadows most of them would not be rung at all.)
  @Test func unmappedDoorbellsArePostedWrites() throws {
    let server = try InProcessServer(doorbells: .mapped)
    defer { server.shutdown() }
    let host = try server.host {
      $0.mapDoorbells = false
      $0.shadowDoorbells = false
    }
    #expect(!host.doorbellsMapped)
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let client = host.client
    let source = try host.allocate(8192)
    let target = try host.allocate(8192)
    let requests = client.requestsSent
    let posts = client.postsSent
    let rounds = 25
    for round in 0..<rounds {
      fill(source, seed: UInt8(round))
      try host.execute(.write(lba: UInt64(round * 16), blocks: 16, buffer: source), on: queue)
      try host.execute(.read(lba: UInt64(round * 16), blocks: 16, buffer: target), on: queue)
      #expect(same(source, target), "round \(round)")
    }
    // Two commands a round, each one SQ tail and one CQ head doorbell.
    #expect(client.requestsSent == requests, "no doorbell waited for a reply")
    #expect(client.postsSent - posts == UInt64(4 * rounds))
    #expect(queue.doorbellRings == UInt64(4 * rounds))
    #expect(queue.submissionDoorbellRings == UInt64(2 * rounds))
    // The server sent nothing back for them.
    #expect(try !UnixSocket.waitReadable(client.connection.socket, timeoutMilliseconds: 50))
    #expect(client.postedFailure == nil)
    // A request after the posts is answered in turn (the socket keeps order).
    #expect(try host.controllerStatus() & 1 == 1)
  }

  /// Several commands in flight behind one posted tail doorbell.
  @Test func onePostedDoorbellPublishesABatch() throws {
    let server = try InProcessServer(doorbells: .trapped)
    defer { server.shutdown() }
    let host = try server.host { $0.shadowDoorbells = false }
    #expect(!host.doorbellsMapped, "trapped: the doorbells are messages")
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 32))
    let buffers = try (0..<16).map { _ in try host.allocate(4096) }
    for (index, buffer) in buffers.enumerated() {
      fill(buffer, seed: UInt8(index))
      try queue.submit(
        .write(lba: UInt64(index * 8), blocks: 8, buffer: buffer), tag: UInt64(index),
        ring: false)
    }
    let posts = host.client.postsSent
    try queue.ringDoorbell()
    #expect(host.client.postsSent == posts + 1)
    var statuses: [NVMeStatus] = []
    try queue.process(minimum: 16, timeoutMilliseconds: 5000) { statuses.append($0.status) }
    #expect(statuses.count == 16 && statuses.allSatisfy { $0 == .success })
    let target = try host.allocate(4096)
    for (index, buffer) in buffers.enumerated() {
      try host.execute(.read(lba: UInt64(index * 8), blocks: 8, buffer: target), on: queue)
      #expect(same(buffer, target), "block \(index)")
    }
  }
}
