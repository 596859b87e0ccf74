import Foundation
import NVMe
import TestSupport
import Testing
import VFIOUserClient

extension NVMeVFUTests.Faults {
  /// 100 clients one after another against one server process, each
  /// attaching like a guest (4 I/O queues, MSI-X eventfds, guest RAM),
  /// writing and reading back 64 KiB, and leaving: every other one orderly
  /// (queues deleted, controller shut down, RAM unmapped), the rest by just
  /// closing the socket. The server's descriptors, mappings and resident
  /// memory do not grow. RSS may move a little with the allocator (freed
  /// heap is not always returned); 8 MiB is far below what a leaked window
  /// (4 MiB of touched guest RAM per client) or per-client state would add
  /// over 100 clients.
  @Test func hundredSequentialClientsDoNotGrowTheServer() throws {
    let scratch = try TemporaryDirectory("client-churn")
    let server = try ServerProcess(
      in: scratch, backings: ["\(scratch.path)/disk.img"],
      arguments: ["--size", "64M"])
    let ramName = "nvme-churn-ram"
    let idle = (fds: server.descriptorCount, eventFDs: server.descriptors(containing: "eventfd"))

    func client(_ index: Int) throws {
      let host = try server.host {
        $0.ramName = ramName
        $0.ramSize = 4 << 20
        $0.completionMode = index % 4 < 2 ? .interrupt : .poll
      }
      let queues = try host.createIOQueues(count: 4, entries: 64)
      let buffer = try host.allocate(64 << 10)
      let lba = UInt64(index % 64) * 128
      fillStamped(buffer, lba: lba, stamp: UInt64(index))
      try host.execute(.write(lba: lba, blocks: 128, buffer: buffer), on: queues[index % 4])
      zero(buffer)
      try host.execute(.read(lba: lba, blocks: 128, buffer: buffer), on: queues[(index + 1) % 4])
      #expect(carries(buffer, lba: lba, stamp: UInt64(index)), "client \(index)")
      if index % 2 == 0 {
        try host.deleteIOQueues()
        try host.shutdownController()
        try host.ram.unmap()
      }
    }

    for index in 0..<5 { try client(index) }  // warm up lazily made state
    #expect(ProcessProbe.eventually(seconds: 10) { server.descriptorCount == idle.fds })
    let warm = (maps: server.mappingCount, rss: server.residentKiB)
    for index in 5..<105 { try client(index) }
    #expect(ProcessProbe.eventually(seconds: 10) { server.descriptorCount == idle.fds })
    let after = (
      fds: server.descriptorCount, eventFDs: server.descriptors(containing: "eventfd"),
      maps: server.mappingCount, rss: server.residentKiB
    )
    #expect(after.fds == idle.fds, "descriptors: \(server.descriptorTargets)")
    #expect(after.eventFDs == idle.eventFDs)
    #expect(server.mappings(containing: ramName) == 0)
    #expect(after.maps <= warm.maps + 8)
    #expect(after.rss <= warm.rss + 8 * 1024, "VmRSS \(warm.rss) -> \(after.rss) KiB")
    #expect(server.process.isRunning)
    print(
      "sequential clients: 100 (50 orderly, 50 closing the socket), server fds before/after: \(idle.fds)/\(after.fds), eventfds: \(idle.eventFDs)/\(after.eventFDs), maps: \(warm.maps)/\(after.maps), VmRSS KiB: \(warm.rss)/\(after.rss) (\(after.rss - warm.rss >= 0 ? "+" : "")\(after.rss - warm.rss))"
    )
  }
}
