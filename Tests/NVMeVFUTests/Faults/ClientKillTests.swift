import Foundation
import Glibc
import NVMe
import TestSupport
import Testing
import VFIOUserClient

extension NVMeVFUTests.Faults {
  /// A client process killed (SIGKILL) while it has I/O in flight, 100
  /// times against one `nvme-vfu-server` process on an image file: each
  /// time the server drops every DMA mapping and IRQ eventfd the client gave
  /// it and accepts the next client; at the end a fresh client reads back
  /// what it wrote.
  @Test func clientKilledWithIOInFlightLeavesNothingBehind() throws {
    let scratch = try TemporaryDirectory("client-kill")
    let server = try ServerProcess(
      in: scratch, backings: ["\(scratch.path)/disk.img"],
      arguments: ["--size", "64M"])
    let clientPath = try BuiltBinaries.path("nvme-vfu-fault-client")
    let ramName = "nvme-fault-client-ram"
    var inFlightAtKill: [Int] = []

    /// One client: started, attached, I/O running (it says so), killed.
    func cycle(whileRunning: () -> Void = {}) throws {
      let client = try ChildProcess(
        clientPath,
        ["--socket", server.socket, "--queues", "2", "--depth", "16", "--ram-name", ramName],
        output: .pipe)
      let line = client.readLine(timeoutSeconds: 20) ?? ""
      guard line.hasPrefix("inflight "), let count = Int(line.dropFirst(9)) else {
        client.signal(SIGKILL)
        Issue.record("the client did not start I/O: \(line) \(client.readAll())")
        throw ChildProcess.SpawnError(description: "client failed")
      }
      whileRunning()
      client.signal(SIGKILL)
      #expect(client.waitForExit() == .signaled(SIGKILL), "the client ran until killed")
      inFlightAtKill.append(count)
    }

    // Before any client: what the server holds on its own.
    let idle = (fds: server.descriptorCount, eventFDs: server.descriptors(containing: "eventfd"))
    // The first client also shows the probes see what a client leaves: its
    // guest RAM mapped and its vectors' eventfds held by the server.
    try cycle {
      #expect(server.mappings(containing: ramName) > 0, "guest RAM is mapped while attached")
      #expect(server.descriptors(containing: "eventfd") > idle.eventFDs, "MSI-X eventfds held")
    }
    #expect(ProcessProbe.eventually(seconds: 10) { server.descriptorCount == idle.fds })
    // Mappings after one client (heap arenas, helper thread stacks made lazily).
    let warm = (maps: server.mappingCount, rss: server.residentKiB)
    inFlightAtKill = []
    let start = Date()
    for _ in 0..<100 { try cycle() }
    let seconds = Date().timeIntervalSince(start)
    #expect(
      ProcessProbe.eventually(seconds: 10) {
        server.mappings(containing: ramName) == 0 && server.descriptors(containing: ramName) == 0
      }, "no window of any killed client is still mapped or open")
    #expect(ProcessProbe.eventually(seconds: 10) { server.descriptorCount == idle.fds })
    let after = (
      fds: server.descriptorCount, eventFDs: server.descriptors(containing: "eventfd"),
      maps: server.mappingCount, rss: server.residentKiB
    )
    #expect(after.fds == idle.fds, "descriptors: \(server.descriptorTargets)")
    #expect(after.eventFDs == idle.eventFDs, "every IRQ eventfd of every client closed")
    // Heap arenas may come and go; a leaked window per client would be 100.
    #expect(after.maps <= warm.maps + 8)
    #expect(server.process.isRunning)

    // The next client is served and reads back what it wrote.
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let buffer = try host.allocate(64 << 10)
    fillStamped(buffer, lba: 4096, stamp: 0xC11E47)
    try host.execute(.write(lba: 4096, blocks: 128, buffer: buffer), on: queue)
    zero(buffer)
    try host.execute(.read(lba: 4096, blocks: 128, buffer: buffer), on: queue)
    #expect(carries(buffer, lba: 4096, stamp: 0xC11E47))

    print(
      "connect-kill cycles: \(inFlightAtKill.count) (commands in flight at the kill: \(inFlightAtKill.min() ?? 0)-\(inFlightAtKill.max() ?? 0), \(String(format: "%.1f", seconds)) s), server fds before/after: \(idle.fds)/\(after.fds), eventfds: \(idle.eventFDs)/\(after.eventFDs), maps: \(warm.maps)/\(after.maps), client RAM mappings left: \(server.mappings(containing: ramName)), VmRSS KiB: \(warm.rss)/\(after.rss)"
    )
  }
}
