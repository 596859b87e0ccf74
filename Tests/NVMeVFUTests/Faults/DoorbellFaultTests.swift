import Glibc
import NVMe
import NVMeHostDriver
import TestSupport
import Testing

extension NVMeVFUTests.Faults {
  /// Doorbell values a correct host never writes, against the server
  /// process, through the mapped doorbell page and through REGION_WRITE:
  /// an SQ tail at or past the queue size, a CQ head past the size, one
  /// that overtakes the tail (frees entries never posted) and one that
  /// moves backwards, and a doorbell of a queue that does not exist. Each
  /// completes a parked Asynchronous Event Request with an Error status
  /// event (type 0, log page 01h) whose info is 01h (Invalid Doorbell Write
  /// Value) or 00h (Write to Invalid Doorbell Register), and nothing else:
  /// the controller stays ready (no CSTS.CFS; the spec reserves that for
  /// errors it cannot report), keeps the last valid value, and the queue
  /// goes on working; the next client is served too.
  @Test func invalidDoorbellWritesRaiseErrorEvents() throws {
    let scratch = try TemporaryDirectory("doorbells")
    let server = try ServerProcess(in: scratch, backings: ["mem:16M"])
    var round = 0
    do {  // the first client, gone at the end of the block
      // Real doorbells: a shadowed queue's controller reads the shadow, so
      // the REGION_WRITEs below would not reach it.
      let host = try server.host { $0.shadowDoorbells = false }
      let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
      let buffer = try host.allocate(4096)
      let logBuffer = try host.allocate(4096)

      /// One bad doorbell write: the event it must raise, then the queue
      /// still moves data.
      func expectEvent(info: UInt32, _ what: String, write: () throws -> Void) throws {
        try write()
        let event = try host.awaitAsyncEvent()
        #expect(
          event == NVMeHost.errorEvent(info: info), "\(what): event \(String(describing: event))")
        // Reading the log page the event named (RAE clear) re-arms error events.
        _ = try host.logPage(0x01, bytes: 64, into: logBuffer)
        try host.parkAsyncEvent()
        #expect(try host.controllerStatus() & 0b11 == 0b01, "\(what): ready, no fatal status")
        round += 1
        let lba = UInt64(round * 8)
        fillStamped(buffer, lba: lba, stamp: UInt64(round))
        try host.execute(.write(lba: lba, blocks: 8, buffer: buffer), on: queue)
        zero(buffer)
        try host.execute(.read(lba: lba, blocks: 8, buffer: buffer), on: queue)
        #expect(carries(buffer, lba: lba, stamp: UInt64(round)), "\(what): I/O after it")
        // Two admin commands in a row: the second is fetched in a controller
        // turn that began (reading every CQ head doorbell) after the first
        // was fetched, so the controller has seen the head the host rang
        // above, and the next bad value is judged against it.
        for _ in 0..<2 {
          _ = try host.adminStatus(
            NVMeCommand(
              opcode: AdminOpcode.getFeatures.rawValue,
              cdw10: UInt32(FeatureID.numberOfQueues.rawValue)))
        }
      }

      try host.parkAsyncEvent()
      let sqTail = 2  // doorbell slot of SQ 1's tail; CQ 1's head is 3
      for value: UInt32 in [16, 17, 0xFFFF, 0xFFFF_FFFF] {
        try expectEvent(info: 1, "SQ tail \(value) of a 16-entry queue") {
          try host.writeDoorbell(slot: sqTail, value: value)
        }
      }
      try expectEvent(info: 1, "SQ tail 16 by REGION_WRITE") {
        try host.client.regionWrite32(0, offset: 0x1000 + UInt64(sqTail * 4), 16)
      }
      // The queue has posted (and the host consumed) an even number of
      // completions so far: its head and tail are at the same place.
      let head = UInt32(queue.completed % 16)
      try expectEvent(info: 1, "CQ head 2 past the tail \(head)") {
        try host.writeDoorbell(slot: 3, value: (head + 2) % 16)
      }
      try expectEvent(info: 1, "CQ head 16 of a 16-entry queue") {
        try host.writeDoorbell(slot: 3, value: 16)
      }
      try expectEvent(info: 1, "CQ head one back") {
        try host.writeDoorbell(slot: 3, value: UInt32((queue.completed + 15) % 16))
      }
      try expectEvent(info: 0, "SQ 5 tail (no such queue)") {
        try host.client.regionWrite32(0, offset: 0x1000 + 5 * 8, 1)
      }
      try expectEvent(info: 0, "CQ 9 head (no such queue)") {
        try host.client.regionWrite32(0, offset: 0x1000 + 9 * 8 + 4, 1)
      }
      // The last request is still parked: nothing else raised an event.
      #expect(try host.awaitAsyncEvent(timeoutMilliseconds: 200) == nil)
      #expect(server.process.isRunning)
    }
    let next = try server.host()
    let nextQueue = try #require(try next.createIOQueues(count: 1, entries: 16).first)
    let check = try next.allocate(4096)
    try next.execute(.read(lba: UInt64(round * 8), blocks: 8, buffer: check), on: nextQueue)
    #expect(carries(check, lba: UInt64(round * 8), stamp: UInt64(round)))
    print(
      "invalid doorbells: \(round) bad writes (SQ tail past the size x5, CQ head overtaking / past the size / backwards, 2 absent queues), \(round) error events, CSTS.CFS 0 throughout, I/O after each"
    )
  }
}
