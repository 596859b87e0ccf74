import Glibc
import NVMe
import POSIX
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// A client that shrinks the memfd behind a DMA window after mapping it.
  /// The server's next access to the window would raise SIGBUS and, without
  /// the guard, kill it (here: the whole test process, which is the server).
  /// With the guard, the lost pages read as zeroes, writes to them go
  /// nowhere, the commands complete and the server keeps serving.
  @Test func aWindowWhoseFileShrinksDoesNotKillTheServer() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let known = try host.allocate(8192)
    fill(known, seed: 61)
    try host.execute(.write(lba: 0, blocks: 16, buffer: known), on: queue)

    let size = 65536
    let fd = try SharedMemory.create(name: "shrinking-ram", size: UInt64(size), sealed: false)
    defer { fd.close() }
    let base: UInt64 = 0x2_0000_0000
    try host.client.dmaMap(address: base, size: UInt64(size), fd: fd)
    #expect(ftruncate(fd.rawValue, 0) == 0, "the peer can shrink an unsealed memfd")
    // The bytes only give the commands their length; the window itself is
    // never touched here (this process would fault on it too).
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { scratch.deallocate() }
    let lost = GuestBuffer(address: base, bytes: scratch)
    let lostToo = GuestBuffer(address: base + 8192, bytes: scratch)

    let before = DMAFaultGuard.faults
    // The server reads the write's data from the vanished page...
    try host.execute(.write(lba: 0, blocks: 8, buffer: lost), on: queue)
    let afterWrite = DMAFaultGuard.faults
    #expect(afterWrite > before, "the server's read of the window faulted and was absorbed")
    // ...and writes a read's data into another one.
    try host.execute(.read(lba: 8, blocks: 8, buffer: lostToo), on: queue)
    #expect(DMAFaultGuard.faults > afterWrite, "so did its write into the window")

    // What the write stored is the zero page that replaced the lost one; the
    // rest is as before, and the server goes on serving from the main RAM.
    let back = try host.allocate(8192)
    try host.execute(.read(lba: 0, blocks: 16, buffer: back), on: queue)
    #expect(back.bytes[0..<4096].allSatisfy { $0 == 0 }, "LBAs 0-7: zeroes from the lost page")
    #expect(
      back.bytes[4096..<8192].elementsEqual(known.bytes[4096..<8192]), "LBAs 8-15 unchanged")
    try host.client.dmaUnmap(address: base, size: UInt64(size))
  }

  /// The server's own BAR0 memfd, which every client gets to mmap the
  /// doorbells, has its size sealed: a client cannot shrink it under the
  /// server's doorbell reads.
  @Test func theDoorbellMemfdCannotBeShrunkByAClient() throws {
    let server = try InProcessServer(doorbells: .mapped)
    defer { server.shutdown() }
    let host = try server.host()
    let reply = try host.client.regionInfo(0)
    let fd = try #require(reply.fd, "BAR0 comes with a descriptor to mmap")
    defer { fd.close() }
    #expect(ftruncate(fd.rawValue, 0) == -1 && errno == EPERM, "F_SEAL_SHRINK refuses the truncate")
    #expect(ftruncate(fd.rawValue, 1 << 30) == -1 && errno == EPERM, "F_SEAL_GROW refuses growth")
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let data = try host.allocate(4096)
    try host.execute(.read(lba: 0, blocks: 8, buffer: data), on: queue)
  }
}
