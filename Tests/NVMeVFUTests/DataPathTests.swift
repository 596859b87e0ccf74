import NVMe
import NVMeHostDriver
import Testing
import VFIOUser

/// The server and the host driver in one process, over a real socket. One
/// suite, serialized: the lifecycle tests count this process's descriptors
/// and threads' CPU time.
@Suite(.serialized) struct NVMeVFUTests {}

extension NVMeVFUTests {
  @Test func identifyRoundTrip() throws {
    let server = try InProcessServer(doorbells: .mapped)
    defer { server.shutdown() }
    let host = try server.host()
    let controller = try #require(host.controllerData)
    #expect(controller.sn == InProcessServer.serial)
    #expect(controller.mn == InProcessServer.model)
    #expect(controller.vid == 0x4E56)
    #expect(controller.mdts == 7)
    #expect(controller.sqes == 0x66)
    #expect(controller.cqes == 0x44)
    #expect(controller.nn == 32)  // maxNamespaces, not the NSIDs in use
    #expect(controller.supportsSGL)
    #expect(controller.subnqn.hasSuffix(InProcessServer.serial))
    let namespace = try host.identifyNamespace(1)
    #expect(namespace.nsze == (8 << 20) / 512)
    #expect(namespace.ncap == namespace.nsze)
    #expect(namespace.nuse == namespace.nsze)
    #expect(namespace.formatIndex == 0)
    #expect(namespace.blockSize == 512)
    #expect(namespace.lbaFormats.map(\.dataSizeExponent) == [9, 12])
    #expect(host.doorbellsMapped)
    let allocated = try host.setNumberOfQueues(2)
    #expect(allocated.submission == 2 && allocated.completion == 2)
  }

  /// PRP1 only, PRP1 + PRP2, PRP lists of several sizes, a PRP1 with a page
  /// offset, and the MDTS maximum: written with PRPs, read back both ways.
  @Test func prpRoundTrip() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let lengths = [512, 4096, 8192, 12288, 65536, 131072, 512 << 10]
    var lba: UInt64 = 0
    for (index, length) in lengths.enumerated() {
      let source = try host.allocate(length)
      let target = try host.allocate(length)
      fill(source, seed: UInt8(index))
      try host.execute(
        .write(lba: lba, blocks: length / 512, buffer: source, using: .prp), on: queue)
      try host.execute(.read(lba: lba, blocks: length / 512, buffer: target), on: queue)
      #expect(same(source, target), "\(length) bytes through PRPs")
      zero(target)
      try host.execute(
        .read(lba: lba, blocks: length / 512, buffer: target, using: .sgl), on: queue)
      #expect(same(source, target), "\(length) bytes written with PRPs, read with an SGL")
      lba += UInt64(length / 512)
    }
    // PRP1 with an offset into its page: the first page is partial.
    let page = try host.allocate(4 * 4096)
    let source = try #require(page.slice(offset: 1024, count: 8192))
    let target = try host.allocate(8192)
    fill(source, seed: 99)
    try host.execute(.write(lba: 4096, blocks: 16, buffer: source), on: queue)
    try host.execute(.read(lba: 4096, blocks: 16, buffer: target), on: queue)
    #expect(same(source, target))
  }

  /// A PRP list naming pages out of order: the controller must follow the
  /// list, not assume the buffer is contiguous.
  @Test func scatteredPRPList() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let pages = try (0..<4).map { _ in try host.allocate(4096) }
    for (index, page) in pages.enumerated() { fill(page, seed: UInt8(10 + index)) }
    let order = [2, 0, 3, 1]
    let list = try host.allocate(4096)
    for (slot, index) in order.dropFirst().enumerated() {
      list.bytes.storeBytes(
        of: pages[index].address.littleEndian, toByteOffset: slot * 8, as: UInt64.self)
    }
    var entry = SubmissionQueueEntry(
      opcode: NVMOpcode.write.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
      prp1: pages[order[0]].address, prp2: list.address, cdw10: 64, cdw12: 31)
    try queue.submit(entry: entry)
    try expectSuccess(queue)
    let target = try host.allocate(4 * 4096)
    try host.execute(.read(lba: 64, blocks: 32, buffer: target), on: queue)
    for (position, index) in order.enumerated() {
      let piece = try #require(target.slice(offset: position * 4096, count: 4096))
      #expect(same(piece, pages[index]), "page \(position) of the list")
    }
    // The same list read back into the scattered pages restores them.
    for page in pages { zero(page) }
    entry.opcode = NVMOpcode.read.rawValue
    try queue.submit(entry: entry)
    try expectSuccess(queue)
    for (position, index) in order.enumerated() {
      #expect(same(try #require(target.slice(offset: position * 4096, count: 4096)), pages[index]))
    }
  }

  /// SGL data block in DPTR, a Last Segment of uneven data blocks, and a
  /// bit bucket that discards part of a read.
  @Test func sglRoundTrip() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 16))
    let source = try host.allocate(65536)
    let target = try host.allocate(65536)
    fill(source, seed: 3)
    try host.execute(.write(lba: 10, blocks: 128, buffer: source, using: .sgl), on: queue)
    try host.execute(.read(lba: 10, blocks: 128, buffer: target, using: .sgl), on: queue)
    #expect(same(source, target))
    zero(target)
    try host.execute(.read(lba: 10, blocks: 128, buffer: target, using: .prp), on: queue)
    #expect(same(source, target), "written with an SGL, read with PRPs")

    // Three data blocks of uneven length behind a Last Segment descriptor.
    let pieces = [1000, 3096, 4096]
    let parts = try pieces.map { try host.allocate($0) }
    for (index, part) in parts.enumerated() { fill(part, seed: UInt8(40 + index)) }
    let segment = try host.allocate(4096)
    for (index, part) in parts.enumerated() {
      SGLDescriptor(address: part.address, length: UInt32(part.count), type: .dataBlock)
        .encode(into: segment.bytes, at: index * SGLDescriptor.size)
    }
    var entry = SubmissionQueueEntry(
      opcode: NVMOpcode.write.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
      cdw10: 500, cdw12: 15)
    entry.dataPointerType = .sglContiguousMetadata
    entry.sglDescriptor = SGLDescriptor(
      address: segment.address, length: UInt32(3 * SGLDescriptor.size), type: .lastSegment)
    try queue.submit(entry: entry)
    try expectSuccess(queue)
    let whole = try host.allocate(8192)
    try host.execute(.read(lba: 500, blocks: 16, buffer: whole), on: queue)
    var offset = 0
    for part in parts {
      #expect(same(try #require(whole.slice(offset: offset, count: part.count)), part))
      offset += part.count
    }

    // Read 8 KiB, dropping the first 4 KiB into a bit bucket.
    let tail = try host.allocate(4096)
    SGLDescriptor(address: 0, length: 4096, type: .bitBucket).encode(into: segment.bytes, at: 0)
    SGLDescriptor(address: tail.address, length: 4096, type: .dataBlock)
      .encode(into: segment.bytes, at: SGLDescriptor.size)
    entry.opcode = NVMOpcode.read.rawValue
    entry.sglDescriptor = SGLDescriptor(
      address: segment.address, length: UInt32(2 * SGLDescriptor.size), type: .lastSegment)
    try queue.submit(entry: entry)
    try expectSuccess(queue)
    #expect(same(tail, try #require(whole.slice(offset: 4096, count: 4096))))
  }

  @Test func commandErrorsCarryTheirStatus() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let buffer = try host.allocate(4096)
    let blocks = (8 << 20) / 512
    expectStatus(.lbaOutOfRange) {
      try host.execute(.read(lba: UInt64(blocks - 4), blocks: 8, buffer: buffer), on: queue)
    }
    expectStatus(.invalidNamespaceOrFormat) {
      try host.execute(.read(namespace: 7, lba: 0, blocks: 8, buffer: buffer), on: queue)
    }
    expectStatus(.invalidOpcode) {
      try host.execute(NVMeCommand(opcode: 0x7F, namespaceID: 1), on: queue)
    }
    expectStatus(.invalidQueueIdentifier) {
      try host.admin(
        NVMeCommand(opcode: AdminOpcode.deleteIOSubmissionQueue.rawValue, cdw10: 9))
    }
    // The queue still works after the failures.
    try host.execute(.read(lba: 0, blocks: 8, buffer: buffer), on: queue)
  }

  /// Without the doorbell mapping every doorbell is a REGION_WRITE message.
  @Test func doorbellsByMessage() throws {
    let server = try InProcessServer()
    defer { server.shutdown() }
    let host = try server.host { $0.mapDoorbells = false }
    #expect(!host.doorbellsMapped)
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let source = try host.allocate(16384)
    let target = try host.allocate(16384)
    fill(source, seed: 5)
    for round in 0..<20 {
      try host.execute(.write(lba: UInt64(round * 32), blocks: 32, buffer: source), on: queue)
      try host.execute(.read(lba: UInt64(round * 32), blocks: 32, buffer: target), on: queue)
      #expect(same(source, target))
    }
  }
}

/// The queue's next completion is a success.
func expectSuccess(_ queue: NVMeQueue, sourceLocation: SourceLocation = #_sourceLocation) throws {
  var status: NVMeStatus?
  try queue.process(timeoutMilliseconds: 5000) { status = $0.status }
  #expect(status == .success, sourceLocation: sourceLocation)
}

func firstQueue(_ host: NVMeHost, _ queues: [NVMeQueue]) throws -> NVMeQueue {
  try #require(queues.first)
}
