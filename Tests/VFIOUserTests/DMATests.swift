import Glibc
import POSIX
import Testing
import VFIOUser
import VFIOUserClient

/// Client memory shared as a memfd, as QEMU shares guest RAM.
struct GuestRAM {
  let fd: FileDescriptor
  let mapping: MemoryMapping

  init(size: UInt64) throws {
    fd = try SharedMemory.create(name: "guest-ram", size: size)
    mapping = try MemoryMapping.map(fd: fd, offset: 0, length: size, access: .readWrite)
  }

  func close() {
    mapping.unmap()
    fd.close()
  }
}

/// Drives the test device's DMA engine through its registers.
func deviceDMA(_ client: VFIOUserClient, op: UInt8, address: UInt64, length: UInt64) throws -> Int32
{
  var writer = WireWriter()
  writer.write(address)
  writer.write(length)
  try client.regionWrite(0, offset: 0x08, data: writer.bytes)
  try client.regionWrite(0, offset: 0x18, data: [op])
  return Int32(bitPattern: try client.regionRead32(0, offset: 0x20))
}

@Suite struct DMATests {
  @Test func mappedMemoryIsReadAndWrittenInPlace() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x10000)
    defer { ram.close() }
    try client.dmaMap(address: 0x4000_0000, size: 0x8000, fd: ram.fd, offset: 0x4000)
    #expect(harness.log.snapshot.mapped.first?.isMapped == true)
    // Guest address 0x4000_0100 is file offset 0x4100.
    for i in 0..<16 { ram.mapping.buffer[0x4100 + i] = UInt8(i + 1) }
    #expect(try deviceDMA(client, op: 1, address: 0x4000_0100, length: 16) == 0)
    #expect(try client.regionRead(0, offset: 0x800, count: 16) == (1...16).map { UInt8($0) })
    try client.regionWrite(0, offset: 0x800, data: [0xAA, 0xBB])
    #expect(try deviceDMA(client, op: 2, address: 0x4000_7FFE, length: 2) == 0)
    #expect(ram.mapping.buffer[0xBFFE] == 0xAA)
    #expect(ram.mapping.buffer[0xBFFF] == 0xBB)
  }

  @Test func accessLeavingAWindowIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x2000)
    defer { ram.close() }
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd)
    try client.dmaMap(address: 0x2000, size: 0x1000, fd: ram.fd, offset: 0x1000)
    // Adjacent windows are still two windows: a range across the edge is refused.
    #expect(try deviceDMA(client, op: 1, address: 0x1FFF, length: 2) == EFAULT)
    #expect(try deviceDMA(client, op: 1, address: 0x3000, length: 1) == EFAULT)
    #expect(try deviceDMA(client, op: 1, address: 0x0FFF, length: 1) == EFAULT)
    #expect(try deviceDMA(client, op: 1, address: 0x2FFF, length: 1) == 0)
  }

  /// Found by the vfio-stream fuzz target (Regressions/vfio-stream/crash-54215709...):
  /// a window past the end of its memfd was mapped, and the first access to
  /// it killed the server with SIGBUS.
  @Test func windowBeyondTheFileIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x2000)
    defer { ram.close() }
    expectErrno(.invalidArgument) {
      try client.dmaMap(address: 0x1000, size: 0x3000, fd: ram.fd)
    }
    expectErrno(.invalidArgument) {
      try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd, offset: 0x2000)
    }
    expectErrno(.invalidArgument) {
      try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd, offset: 0x200_0000_0000)
    }
    #expect(harness.log.snapshot.mapped.isEmpty)
    // Exactly the file is fine, and the device reaches its last byte.
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd, offset: 0x1000)
    #expect(try deviceDMA(client, op: 1, address: 0x1FFF, length: 1) == 0)
  }

  @Test func readOnlyWindowRefusesDeviceWrites() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x1000)
    defer { ram.close() }
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd, writable: false)
    #expect(try deviceDMA(client, op: 1, address: 0x1000, length: 4) == 0)
    #expect(try deviceDMA(client, op: 2, address: 0x1000, length: 4) == EFAULT)
  }

  @Test func overlappingZeroSizeAndUnalignedMapsAreRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x4000)
    defer { ram.close() }
    try client.dmaMap(address: 0x10000, size: 0x2000, fd: ram.fd)
    expectErrno(.exists) { try client.dmaMap(address: 0x10000, size: 0x2000, fd: ram.fd) }
    expectErrno(.exists) { try client.dmaMap(address: 0xF000, size: 0x2000, fd: ram.fd) }
    expectErrno(.exists) { try client.dmaMap(address: 0x11000, size: 0x1000, fd: nil) }
    expectErrno(.invalidArgument) { try client.dmaMap(address: 0x20000, size: 0, fd: ram.fd) }
    expectErrno(.invalidArgument) { try client.dmaMap(address: 0x20001, size: 0x1000, fd: ram.fd) }
    expectErrno(.invalidArgument) { try client.dmaMap(address: 0x20000, size: 0x1001, fd: ram.fd) }
    expectErrno(.invalidArgument) {
      try client.dmaMap(address: 0x20000, size: 0x1000, fd: ram.fd, offset: 12)
    }
    expectErrno(.invalidArgument) {
      try client.dmaMap(address: .max - 0xFFF, size: 0x2000, fd: nil)
    }
    var bad = DMAMapRequest(flags: 4, offset: 0, address: 0x30000, size: 0x1000)
    expectErrno(.invalidArgument) { _ = try client.request(.dmaMap, payload: bad.encoded) }
    bad.flags = 3
    // An fd that cannot be mapped (a write-only pipe end) is the kernel's error, and no
    // window remains.
    let probe = ClosureProbe()
    defer { probe.close() }
    expectErrno(Errno(EACCES)) {
      _ = try client.request(.dmaMap, payload: bad.encoded, fds: [probe.writeEnd])
    }
    probe.dropOurCopy()
    #expect(probe.isReleased())
    try client.dmaMap(address: 0x30000, size: 0x1000, fd: ram.fd)  // the slot is free
  }

  @Test func unmapMustMatchExactlyAndReachesTheDeviceFirst() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x4000)
    defer { ram.close() }
    try client.dmaMap(address: 0x10000, size: 0x4000, fd: ram.fd)
    expectErrno(.notFound) { try client.dmaUnmap(address: 0x10000, size: 0x1000) }
    expectErrno(.notFound) { try client.dmaUnmap(address: 0x11000, size: 0x3000) }
    expectErrno(.notFound) { try client.dmaUnmap(address: 0x90000, size: 0x1000) }
    expectErrno(.notSupported) { try client.dmaUnmap(address: 0x10000, size: 0x4000, flags: 1) }
    expectErrno(.invalidArgument) { try client.dmaUnmap(address: 0x10000, size: 0x4000, flags: 8) }
    let reply = try client.request(
      .dmaUnmap, payload: DMAUnmapRequest(address: 0x10000, size: 0x4000).encoded)
    #expect(try DMAUnmapRequest(payload: reply.payload).address == 0x10000)
    #expect(harness.log.snapshot.unmapped.map(\.address) == [0x10000])
    #expect(try deviceDMA(client, op: 1, address: 0x10000, length: 4) == EFAULT)
    expectErrno(.notFound) { try client.dmaUnmap(address: 0x10000, size: 0x4000) }
  }

  @Test func unmapAllFlagDropsEveryWindow() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let ram = try GuestRAM(size: 0x2000)
    defer { ram.close() }
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd)
    try client.dmaMap(address: 0x8000, size: 0x1000, fd: nil)
    expectErrno(.invalidArgument) {
      try client.dmaUnmap(address: 0x1000, size: 0x1000, flags: DMAUnmapRequest.all)
    }
    try client.dmaUnmap(address: 0, size: 0, flags: DMAUnmapRequest.all)
    #expect(harness.log.snapshot.unmapped.count == 2)
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd)
  }

  @Test func mapLimitIsTheNegotiatedOne() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    var caps = Capabilities.qemuClient
    caps.maxDMAMaps = 2
    let client = try harness.client(caps)
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: nil)
    try client.dmaMap(address: 0x3000, size: 0x1000, fd: nil)
    expectErrno(.noSpace) { try client.dmaMap(address: 0x5000, size: 0x1000, fd: nil) }
  }

  @Test(arguments: DMAMessageLayout.allCases)
  func memoryWithoutFDIsReachedByMessages(_ layout: DMAMessageLayout) throws {
    var options = ServerOptions()
    options.dmaLayout = layout
    options.capabilities.maxDataTransferSize = 1 << 20
    let harness = try ServerHarness(options: options)
    defer { harness.shutdown() }
    var caps = Capabilities.qemuClient
    caps.maxDataTransferSize = 512  // forces chunking of the 2 KiB transfer
    let client = try harness.client(caps)
    client.dmaLayout = layout
    let window = client.messageMemory.add(address: 0x20000, size: 0x4000)
    try client.dmaMap(address: 0x20000, size: 0x4000, fd: nil)
    for i in 0..<0x800 { window[0x100 + i] = UInt8(truncatingIfNeeded: i * 7) }
    // The device's DMA happens while the server handles our REGION_WRITE: the server's
    // DMA_READs interleave with our pending request, and the client answers them.
    #expect(try deviceDMA(client, op: 1, address: 0x20100, length: 0x800) == 0)
    #expect(client.messageMemory.reads == 4)
    #expect(
      try client.regionRead(0, offset: 0x800, count: 0x800)
        == (0..<0x800).map { UInt8(truncatingIfNeeded: $0 * 7) })
    try client.regionWrite(0, offset: 0x800, data: [5, 6, 7])
    #expect(try deviceDMA(client, op: 2, address: 0x23FFD, length: 3) == 0)
    #expect(Array(window[0x3FFD..<0x4000]) == [5, 6, 7])
    #expect(try deviceDMA(client, op: 1, address: 0x23FFD, length: 4) == EFAULT)
  }

  @Test func translationIsBoundedPerWindow() throws {
    let space = DMASpace()
    let ram = try GuestRAM(size: 0x2000)
    defer { ram.close() }
    try space.add(DMAMapRequest(flags: 3, offset: 0, address: 0x1000, size: 0x2000), fd: ram.fd)
    #expect(space.translate(0x1000, length: 0x2000, write: true)?.count == 0x2000)
    #expect(space.translate(0x1000, length: 0x2001, write: false) == nil)
    #expect(space.translate(0x2FFF, length: 2, write: false) == nil)
    #expect(space.translate(0x0FFF, length: 1, write: false) == nil)
    #expect(space.translate(.max, length: 1, write: false) == nil)
    #expect(space.translate(0x1000, length: Int.max, write: false) == nil)
    #expect(space.translate(0x1000, length: -1, write: false) == nil)
    // The window is the same memory as the client's: a byte written there is seen here.
    ram.mapping.buffer[0x1FFF] = 0x5C
    #expect(space.translate(0x2FFF, length: 1, write: false)?.first == 0x5C)
  }
}
