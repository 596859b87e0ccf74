import NVMe
import NVMeHostDriver
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// Interrupt mode: the host sleeps on each queue's MSI-X eventfd; every
  /// batch of completions must arrive through it (a missing interrupt is a
  /// timeout here).
  @Test func interruptModeIsDrivenByMSIXEventfds() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host { $0.completionMode = .interrupt }
    let queues = try host.createIOQueues(count: 3, entries: 16)
    try roundTrips(host, queues: queues, depth: 8, rounds: 40)
    let vectors = try #require(host.vectors)
    for queue in queues {
      // The host only waits on a vector when no completion is already there,
      // so count a signal it never had to read as well (timing-independent).
      _ = vectors.consume(queue.vector)
      #expect(vectors.signals[queue.vector] > 0, "queue \(queue.id)'s vector fired")
      #expect(queue.vector == Int(queue.id), "one vector per queue")
    }
  }

  /// Poll mode: completion queues are created without interrupts, so the
  /// server writes no eventfd for them.
  @Test func pollModeSendsNoInterrupts() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host { $0.completionMode = .poll }
    let queues = try host.createIOQueues(count: 2, entries: 16)
    try roundTrips(host, queues: queues, depth: 8, rounds: 40)
    let vectors = try #require(host.vectors)
    for queue in queues {
      #expect(queue.interruptWakeups == 0)
      #expect(!vectors.consume(queue.vector), "vector \(queue.vector) never fired")
    }
  }

  /// Guest RAM shared without a descriptor: the server reaches queues and
  /// data only through DMA_READ/DMA_WRITE, which the host answers while it
  /// waits.
  @Test(arguments: CompletionMode.allCases)
  func fdLessGuestMemory(mode: CompletionMode) throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host {
      $0.sharing = .messages
      $0.completionMode = mode
      $0.ramSize = 2 << 20
    }
    #expect(host.ram.sharing == .messages)
    let queues = try host.createIOQueues(count: 1, entries: 8)
    try roundTrips(host, queues: queues, depth: 4, rounds: 5, blocks: 16)
    #expect(host.client.messageMemory.reads > 0, "the server read guest memory by message")
    #expect(host.client.messageMemory.writes > 0, "the server wrote guest memory by message")
  }

  /// Large transfers over fd-less memory go in chunks that fit a socket
  /// buffer: QEMU's reply to a bigger DMA_READ can stall (ServerOptions).
  @Test func fdLessTransfersAreChunked() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host {
      $0.sharing = .messages
      $0.completionMode = .poll
      $0.ramSize = 4 << 20
    }
    let queues = try host.createIOQueues(count: 1, entries: 8)
    try roundTrips(host, queues: queues, depth: 2, rounds: 2, blocks: 512)  // 256 KiB each
    let largest = host.client.messageMemory.largestTransfer
    #expect(largest <= ServerOptions().maxRemoteDMAChunk, "largest DMA message \(largest) bytes")
    #expect(largest > 4096, "contiguous pages still travel together")
  }
}

/// Writes `depth` distinct buffers per queue at once, reads them back at
/// once, and compares, `rounds` times.
func roundTrips(
  _ host: NVMeHost, queues: [NVMeQueue], depth: Int, rounds: Int, blocks: Int = 8
) throws {
  let length = blocks * 512
  var sources: [[GuestBuffer]] = []
  var targets: [[GuestBuffer]] = []
  for _ in queues {
    sources.append(try (0..<depth).map { _ in try host.allocate(length) })
    targets.append(try (0..<depth).map { _ in try host.allocate(length) })
  }
  for round in 0..<rounds {
    for (q, queue) in queues.enumerated() {
      for slot in 0..<depth {
        fill(sources[q][slot], seed: UInt8(truncatingIfNeeded: round &* 13 &+ q &* 5 &+ slot))
        let lba = UInt64((q * depth + slot) * blocks)
        try queue.submit(
          .write(lba: lba, blocks: blocks, buffer: sources[q][slot]), tag: UInt64(slot),
          ring: slot == depth - 1)
      }
    }
    for queue in queues {
      var failures = 0
      try queue.process(minimum: depth, timeoutMilliseconds: 5000) {
        failures += $0.isSuccess ? 0 : 1
      }
      #expect(failures == 0)
    }
    for (q, queue) in queues.enumerated() {
      for slot in 0..<depth {
        zero(targets[q][slot])
        let lba = UInt64((q * depth + slot) * blocks)
        try queue.submit(
          .read(
            lba: lba, blocks: blocks, buffer: targets[q][slot], using: slot % 2 == 0 ? .prp : .sgl),
          tag: UInt64(slot))
      }
    }
    for (q, queue) in queues.enumerated() {
      try queue.process(minimum: depth, timeoutMilliseconds: 5000) { completion in
        #expect(completion.isSuccess)
        let slot = Int(completion.tag)
        #expect(same(sources[q][slot], targets[q][slot]), "queue \(queue.id) slot \(slot)")
      }
    }
  }
}

extension NVMeVFUTests {
  /// More vectors than one message may carry descriptors (16): the host
  /// wires them in runs, and a queue on a high vector still gets interrupts.
  @Test func vectorsBeyondOneMessageAreWired() throws {
    let server = try InProcessServer(ioQueues: 20)
    defer { server.shutdown() }
    let host = try server.host { $0.completionMode = .interrupt }
    #expect(host.vectors?.fds.count == 21)
    let queues = try host.createIOQueues(count: 18, entries: 4)
    let last = try #require(queues.last)
    #expect(last.vector == 18)
    try roundTrips(host, queues: [last], depth: 2, rounds: 3)
    #expect(last.interruptWakeups > 0)
  }
}
