import Glibc
import NVMe
import NVMeHostDriver
import TestSupport
import Testing

extension NVMeVFUTests.Faults {
  /// I/O queues placed where guest memory is not, against the server
  /// process: a CQ outside every DMA window, an SQ outside, and an SQ that
  /// runs off the end of guest RAM. Creating them succeeds (the controller
  /// does not probe memory; QEMU's NVMe does not either), and the first
  /// access that fails sets CSTS.CFS: a completion that cannot be posted or
  /// a command that cannot be fetched is an error the controller cannot
  /// report in a completion queue. A reset (CC.EN = 0) clears it and the
  /// controller serves I/O again.
  @Test func queuesOutsideGuestMemorySetFatalStatus() throws {
    let scratch = try TemporaryDirectory("queue-placement")
    let server = try ServerProcess(in: scratch, backings: ["mem:16M"])
    let host = try server.host()
    let ramEnd = host.ram.base + UInt64(host.ram.size)
    let outside: UInt64 = 0x7_0000_0000
    let sqPages = try host.allocate(4 * 4096)
    let cqPage = try host.allocate(4096)
    let data = try host.allocate(4096)
    // The last page of guest RAM: a 128-entry SQ from here has entries 0-63
    // in RAM and 64-127 beyond its end.
    let lastPage = try #require(host.ram.buffer(at: ramEnd - 4096, count: 4096))

    struct Placement {
      var name: String
      var cq: UInt64
      var sq: UInt64
      var sqEntries: Int
      /// Commands the host can place (the rest of the ring is not memory).
      var commands: Int
      /// Completions posted before the failure, where the host can see the CQ.
      var posted: Int?
    }
    let placements = [
      Placement(
        name: "CQ outside guest memory", cq: outside, sq: sqPages.address, sqEntries: 16,
        commands: 1, posted: nil),
      Placement(
        name: "SQ outside guest memory", cq: cqPage.address, sq: outside, sqEntries: 16,
        commands: 0, posted: 0),
      Placement(
        name: "SQ running off the end of guest RAM", cq: sqPages.address, sq: lastPage.address,
        sqEntries: 128, commands: 64, posted: 64),
    ]
    var recovered = 0
    for placement in placements {
      let cqRing = host.ram.buffer(at: placement.cq, count: 128 * 16)
      cqRing?.bytes.initializeMemory(as: UInt8.self, repeating: 0)
      _ = try host.setNumberOfQueues(1)
      let cqEntries = 128
      let create = [
        NVMeCommand(
          opcode: AdminOpcode.createIOCompletionQueue.rawValue,
          cdw10: UInt32(cqEntries - 1) << 16 | 1, cdw11: 1, prp1: placement.cq),
        NVMeCommand(
          opcode: AdminOpcode.createIOSubmissionQueue.rawValue,
          cdw10: UInt32(placement.sqEntries - 1) << 16 | 1, cdw11: 1 << 16 | 1, prp1: placement.sq),
      ]
      for command in create {
        #expect(try host.adminStatus(command) == .success, "\(placement.name): creation")
      }
      let ring = placement.sq == lastPage.address ? lastPage : sqPages
      for slot in 0..<placement.commands {
        let flush = SubmissionQueueEntry(
          opcode: NVMOpcode.flush.rawValue, commandIdentifier: UInt16(slot), namespaceIdentifier: 1)
        flush.encode(
          into: UnsafeMutableRawBufferPointer(rebasing: ring.bytes[slot * 64..<slot * 64 + 64]))
      }
      // One past what the host could place: the controller must fetch an
      // entry that is not in guest memory (or post a completion there).
      try host.writeDoorbell(slot: 2, value: UInt32(max(1, placement.commands + 1)))
      #expect(
        ProcessProbe.eventually(seconds: 10) {
          (try? host.controllerStatus()).map { $0 & 0b10 != 0 } == true
        },
        "\(placement.name): CSTS.CFS")
      if let cqRing, let posted = placement.posted {
        // Phase tag 1 (dword 3, bit 16) marks an entry the controller wrote.
        let written = (0..<128).filter { cqRing.bytes[$0 * 16 + 14] & 1 == 1 }.count
        #expect(written == posted, "\(placement.name): completions before the failure")
      }
      try host.resetController()
      #expect(try host.controllerStatus() & 0b11 == 0, "\(placement.name): reset clears CFS")
      try host.enableController()
      let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
      fillStamped(data, lba: 64, stamp: UInt64(recovered))
      try host.execute(.write(lba: 64, blocks: 8, buffer: data), on: queue)
      zero(data)
      try host.execute(.read(lba: 64, blocks: 8, buffer: data), on: queue)
      #expect(
        carries(data, lba: 64, stamp: UInt64(recovered)), "\(placement.name): I/O after reset")
      recovered += 1
      try host.resetController()
      try host.enableController()
    }
    #expect(server.process.isRunning)
    print(
      "queues outside guest memory: \(placements.count) placements (CQ outside, SQ outside, SQ past the end of RAM): created with success, CSTS.CFS on first use (the 64 commands that were in RAM completed first), \(recovered) of \(placements.count) serve I/O after a reset"
    )
  }

  /// 4096 I/O queue pairs created and deleted (256 rounds of 16, the most
  /// the server offers), each queue moving one block, with refused creates
  /// and deletes mixed in (Invalid Queue Identifier, Completion Queue
  /// Invalid, Invalid Queue Deletion): every status as the spec says, no
  /// asynchronous event, the data all there, and the server process no
  /// bigger than after the first round.
  @Test func queuePairsCreatedAndDeleted4096Times() throws {
    let scratch = try TemporaryDirectory("queue-churn")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:16M"], arguments: ["--io-queues", "16"])
    // 20,000 commands one at a time: the host sleeps on its MSI-X eventfds
    // rather than spinning against the server for the same core.
    let host = try server.host { $0.completionMode = .interrupt }
    try host.parkAsyncEvent()
    let block = try host.allocate(512)
    var created = 0
    var refused = 0

    func refuse(_ command: NVMeCommand, _ expected: NVMeStatus, _ what: String) throws {
      let status = try host.adminStatus(command)
      #expect(status.matches(expected), "\(what): \(status)")
      refused += 1
    }
    func create(_ opcode: AdminOpcode, qid: UInt32, cqid: UInt32 = 1) -> NVMeCommand {
      NVMeCommand(
        opcode: opcode.rawValue, cdw10: 7 << 16 | qid,
        cdw11: opcode == .createIOSubmissionQueue ? cqid << 16 | 1 : 1, prp1: block.address)
    }

    // The blocks the rounds write, touched once first: the memory backend's
    // pages count in the server's RSS from then on.
    do {
      let queue = try #require(try host.createIOQueues(count: 16, entries: 8).first)
      let fill = try host.allocate(256 << 10)
      for part in 0..<8 {
        try host.execute(.write(lba: UInt64(part * 512), blocks: 512, buffer: fill), on: queue)
      }
      try host.deleteIOQueues()
    }
    var warm = (fds: 0, maps: 0, rss: 0)
    for round in 0..<256 {
      let queues = try host.createIOQueues(count: 16, entries: 8)
      created += queues.count
      for queue in queues {
        let lba = UInt64(round * 16) + UInt64(queue.id - 1)
        fillStamped(block, lba: lba, stamp: UInt64(round))
        try host.execute(.write(lba: lba, blocks: 1, buffer: block), on: queue)
      }
      if round % 32 == 0 {
        try refuse(create(.createIOCompletionQueue, qid: 17), .invalidQueueIdentifier, "CQ 17")
        try refuse(create(.createIOCompletionQueue, qid: 3), .invalidQueueIdentifier, "CQ 3 again")
        try refuse(create(.createIOSubmissionQueue, qid: 3), .invalidQueueIdentifier, "SQ 3 again")
        try refuse(
          create(.createIOSubmissionQueue, qid: 5, cqid: 17), .completionQueueInvalid, "SQ on CQ 17"
        )
        try refuse(
          NVMeCommand(opcode: AdminOpcode.deleteIOCompletionQueue.rawValue, cdw10: 2),
          .invalidQueueDeletion, "CQ 2 with its SQ")
      }
      try host.deleteIOQueues()
      if round % 32 == 0 {
        try refuse(
          NVMeCommand(opcode: AdminOpcode.deleteIOSubmissionQueue.rawValue, cdw10: 4),
          .invalidQueueIdentifier, "SQ 4 deleted twice")
      }
      if round == 0 {
        warm = (server.descriptorCount, server.mappingCount, server.residentKiB)
      }
    }
    // Every block is there.
    let queue = try #require(try host.createIOQueues(count: 16, entries: 8).first)
    let readBack = try host.allocate(256 << 10)
    var good = 0
    for part in 0..<8 {
      let first = UInt64(part * 512)
      try host.execute(.read(lba: first, blocks: 512, buffer: readBack), on: queue)
      for index in 0..<512 {
        let lba = first + UInt64(index)
        let stamp = BlockStamp.stamp(
          in: UnsafeRawBufferPointer(readBack.bytes), at: index * 512, lba: lba)
        if stamp == lba / 16 { good += 1 }
      }
    }
    #expect(good == 4096)
    #expect(host.adminQueue?.outstanding == 1, "no asynchronous event came")
    #expect(try host.controllerStatus() & 0b11 == 0b01)
    let after = (fds: server.descriptorCount, maps: server.mappingCount, rss: server.residentKiB)
    #expect(after.fds == warm.fds)
    #expect(after.maps <= warm.maps + 8)
    #expect(after.rss <= warm.rss + 8 * 1024)
    print(
      "queue churn: \(created) I/O queue pairs created and deleted (256 rounds x 16), \(refused) refused creates/deletes with the spec's statuses, \(good) blocks written through them read back, 0 events, server fds \(warm.fds)/\(after.fds), maps \(warm.maps)/\(after.maps), VmRSS KiB \(warm.rss)/\(after.rss)"
    )
  }
}
