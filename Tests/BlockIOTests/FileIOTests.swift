import BackendContract
import Glibc
import POSIX
import TestSupport
import Testing

@testable import BlockIO

@Suite struct FileIOTests {
  /// A fresh 8 MiB image on a disk filesystem, opened with O_DIRECT.
  static func directBackend(
    _ dir: TemporaryDirectory, depth: Int = 64, engine: FileEngine
  ) throws -> FileBackend? {
    let backend = try FileBackend(
      path: dir.file("disk.img"), createSize: 8 << 20, queueDepth: depth, engine: engine)
    #expect(backend.isDirect, "a disk filesystem must take O_DIRECT")
    #expect(fcntl(backend.fd.rawValue, F_GETFL) & Linux.openDirect != 0)
    return backend
  }

  @Test(arguments: FileEngine.allCases) func roundTripsAlignedVectorsWithoutBouncing(
    engine: FileEngine
  ) throws {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    #expect([512, 4096].contains(backend.alignment))
    let data = IOBuffer(pieces: [4096, 8192, 4096])
    data.fill(seed: 11)
    #expect(backend.write(data, at: 65536) == 0)
    let back = IOBuffer(pieces: [8192, 8192])
    #expect(backend.read(back, at: 65536) == 0)
    expectBytes(back.array, pattern(count: 16384, seed: 11))
    expectBytes(fileBytes(backend.path, at: 65536, count: 16384), pattern(count: 16384, seed: 11))
    expectBytes(
      fileBytes(backend.path, at: 65536 - 4096, count: 4096), [UInt8](repeating: 0, count: 4096))
    #expect(backend.statistics.bounced == 0)
    #expect(backend.statistics.bytesWritten == 16384)
    #expect(backend.statistics.bytesRead == 16384)
    #expect(backend.statistics.completed == 2)
  }

  @Test(arguments: FileEngine.allCases) func bouncesUnalignedVectorsAndKeepsTheData(
    engine: FileEngine
  ) throws {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    // Misaligned base, and lengths that are not sector multiples.
    let data = IOBuffer(pieces: [100, 3996, 4096], misalign: 1)
    data.fill(seed: 21)
    #expect(backend.write(data, at: 8192) == 0)
    #expect(backend.statistics.bounced == 1)
    expectBytes(fileBytes(backend.path, at: 8192, count: 8192), pattern(count: 8192, seed: 21))
    let back = IOBuffer(pieces: [1, 8190, 1], misalign: 3)
    back.fill(byte: 0xEE)
    #expect(backend.read(back, at: 8192) == 0)
    expectBytes(back.array, pattern(count: 8192, seed: 21))
    #expect(backend.statistics.bounced == 2)
    // A bounced read that fails leaves the caller's memory alone.
    let beyond = IOBuffer(pieces: [10, 502], misalign: 1)
    beyond.fill(byte: 0xEE)
    #expect(backend.read(beyond, at: 8 << 20) == EIO)
    expectBytes(beyond.array, [UInt8](repeating: 0xEE, count: 512))
  }

  @Test(arguments: FileEngine.allCases) func bouncesMoreVectorsThanOneCallTakes(engine: FileEngine)
    throws
  {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    // Each piece aligned: only the count forces the bounce.
    let pieces = [Int](repeating: backend.alignment, count: Linux.maxIOVecs + 8)
    let data = IOBuffer(pieces: pieces)
    data.fill(seed: 5)
    #expect(backend.write(data, at: 0) == 0)
    #expect(backend.statistics.bounced == 1)
    expectBytes(
      fileBytes(backend.path, at: 0, count: data.count), pattern(count: data.count, seed: 5))
  }

  @Test(arguments: FileEngine.allCases) func writesWithForceUnitAccess(engine: FileEngine) throws {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    let data = IOBuffer(bytes: 4096)
    data.fill(seed: 31)
    #expect(backend.write(data, at: 4096, fua: true) == 0)
    #expect(backend.fuaMode == .dataSyncFlag, "Linux >= 4.13 takes RWF_DSYNC")
    #expect(backend.worker == nil, "RWF_DSYNC needs no helper thread")
    expectBytes(fileBytes(backend.path, at: 4096, count: 4096), pattern(count: 4096, seed: 31))
  }

  @Test(arguments: FileEngine.allCases) func writesWithForceUnitAccessWithoutTheFlag(
    engine: FileEngine
  ) throws {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    backend.fuaMode = .syncAfterWrite  // as on a kernel without RWF_DSYNC
    let data = IOBuffer(bytes: 8192)
    data.fill(seed: 41)
    #expect(backend.write(data, at: 0, fua: true) == 0)
    #expect(backend.worker != nil, "the fdatasync ran on the helper")
    #expect(backend.statistics.completed == 1)
    #expect(backend.statistics.bytesWritten == 8192)
    expectBytes(fileBytes(backend.path, at: 0, count: 8192), pattern(count: 8192, seed: 41))
  }

  @Test(arguments: FileEngine.allCases) func flushesThroughTheKernel(engine: FileEngine) throws {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    #expect(backend.range(.flush, at: 0, length: 0) == 0)
    #expect(backend.flushMode != .unknown, "the first flush settles the mode")
    print("aio FDSYNC on \(dir.path): \(backend.flushMode)")
    #expect(backend.range(.flush, at: 0, length: 0) == 0)
  }

  @Test(arguments: FileEngine.allCases) func flushesOnTheHelperThread(engine: FileEngine) throws {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("flush.img"), createSize: 1 << 20, queueDepth: 16, engine: engine)
    defer { backend.close() }
    backend.flushMode = .helper  // as on a filesystem that refuses aio FDSYNC
    let data = IOBuffer(bytes: 4096)
    let requests =
      [BlockRequest(operation: .write, offset: 0, length: 4096, iovecs: data.iovecs, tag: 1)]
      + (2...6).map { BlockRequest(operation: .flush, offset: 0, length: 0, tag: $0) }
    let results = backend.run(requests)
    #expect(results == [1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0])
    #expect(backend.worker != nil)
    #expect(backend.inFlight == 0)
  }

  /// libaio only: an io_uring fsync has no field to sabotage this way, and
  /// the same `retriedWithoutMissingFeature` handles its refusal.
  @Test func learnsThatTheKernelRefusesAioFlushes() throws {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(path: dir.file("fdsync.img"), createSize: 1 << 20, queueDepth: 16)
    defer { backend.close() }
    backend.enqueue(BlockRequest(operation: .flush, offset: 0, length: 0, tag: 1))
    // Make io_submit answer EINVAL, as for a filesystem without aio fsync.
    let aio = try #require(backend.aio)
    aio.control(aio.queued.peek(0)).pointee.aio_lio_opcode = 0x7FFF
    let collector = Collector()
    backend.drain { collector($0) }
    #expect(collector.results == [1: 0], "the flush still completes, via fdatasync")
    #expect(backend.flushMode == .helper)
    #expect(backend.worker != nil)
    #expect(backend.range(.flush, at: 0, length: 0) == 0)
  }

  @Test(arguments: FileEngine.allCases) func learnsThatTheKernelRefusesDataSyncWrites(
    engine: FileEngine
  ) throws {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("rwf.img"), createSize: 1 << 20, queueDepth: 16, engine: engine)
    defer { backend.close() }
    let data = IOBuffer(bytes: 4096)
    data.fill(seed: 91)
    backend.enqueue(
      BlockRequest(
        operation: .write, offset: 4096, length: 4096, iovecs: data.iovecs, forceUnitAccess: true,
        tag: 1))
    // An RWF bit no kernel knows: io_submit (or io_uring's completion)
    // answers EOPNOTSUPP, as an old kernel does for RWF_DSYNC.
    switch engine {
    case .libaio:
      let aio = try #require(backend.aio)
      aio.control(aio.queued.peek(0)).pointee.aio_rw_flags |= 0x4000_0000
    case .ioUring:
      let uring = try #require(backend.uring)
      uring.requests[Int(uring.queued.peek(0))].rwFlags |= 0x4000_0000
    }
    let collector = Collector()
    backend.drain { collector($0) }
    #expect(collector.results == [1: 0])
    #expect(backend.fuaMode == .syncAfterWrite)
    #expect(backend.worker != nil, "durability came from fdatasync on the helper")
    expectBytes(fileBytes(backend.path, at: 4096, count: 4096), pattern(count: 4096, seed: 91))
  }

  @Test(arguments: FileEngine.allCases) func takesManyRequestsInOneSubmit(engine: FileEngine) throws
  {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, depth: 256, engine: engine)
    else { return }
    defer { backend.close() }
    let buffers = (0..<256).map { index in
      let buffer = IOBuffer(bytes: 4096)
      buffer.fill(seed: UInt8(truncatingIfNeeded: index))
      return buffer
    }
    for (index, buffer) in buffers.enumerated() {
      backend.enqueue(
        BlockRequest(
          operation: .write, offset: UInt64(index) * 8192, length: 4096, iovecs: buffer.iovecs,
          tag: UInt64(1000 + index)))
    }
    #expect(backend.inFlight == 256)
    backend.submit()
    #expect(backend.statistics.submitCalls == 1, "one io_submit for the whole batch")
    let collector = Collector()
    backend.drain { collector($0) }
    #expect(collector.duplicates.isEmpty)
    #expect(Set(collector.order) == Set((0..<256).map { UInt64(1000 + $0) }))
    #expect(collector.results.values.allSatisfy { $0 == 0 })
    #expect(backend.inFlight == 0)
    #expect(backend.statistics.completed == 256)
    #expect(backend.statistics.submitCalls == 1, "draining with nothing queued submits nothing")

    let reads = (0..<256).map { _ in IOBuffer(bytes: 4096) }
    let requests = reads.enumerated().map { index, buffer in
      BlockRequest(
        operation: .read, offset: UInt64(index) * 8192, length: 4096, iovecs: buffer.iovecs,
        tag: UInt64(index))
    }
    #expect(backend.run(requests).values.allSatisfy { $0 == 0 })
    for (index, buffer) in reads.enumerated() {
      expectBytes(buffer.array, pattern(count: 4096, seed: UInt8(truncatingIfNeeded: index)))
    }
  }

  @Test(arguments: FileEngine.allCases) func queuesRequestsBeyondTheDepth(engine: FileEngine) throws
  {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("deep.img"), createSize: 1 << 20, queueDepth: 4, engine: engine)
    defer { backend.close() }
    let buffers = (0..<40).map { index in
      let buffer = IOBuffer(bytes: 4096)
      buffer.fill(seed: UInt8(index))
      return buffer
    }
    let requests = buffers.enumerated().map { index, buffer in
      BlockRequest(
        operation: .write, offset: UInt64(index) * 4096, length: 4096, iovecs: buffer.iovecs,
        tag: UInt64(index))
    }
    let results = backend.run(requests)
    #expect(results.count == 40)
    #expect(results.values.allSatisfy { $0 == 0 })
    for index in 0..<40 {
      expectBytes(
        fileBytes(backend.path, at: index * 4096, count: 4096),
        pattern(count: 4096, seed: UInt8(index)))
    }
  }

  @Test(arguments: FileEngine.allCases) func drainWaitsForEverythingOfEveryKind(engine: FileEngine)
    throws
  {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try Self.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    let data = IOBuffer(bytes: 65536)
    data.fill(seed: 51)
    let odd = IOBuffer(pieces: [300, 212], misalign: 1)
    odd.fill(seed: 52)
    backend.enqueue(
      BlockRequest(operation: .write, offset: 0, length: 65536, iovecs: data.iovecs, tag: 1))
    backend.enqueue(
      BlockRequest(operation: .write, offset: 1 << 20, length: 512, iovecs: odd.iovecs, tag: 2))
    backend.enqueue(BlockRequest(operation: .flush, offset: 0, length: 0, tag: 3))
    backend.enqueue(BlockRequest(operation: .writeZeroes, offset: 2 << 20, length: 1 << 20, tag: 4))
    backend.enqueue(BlockRequest(operation: .discard, offset: 3 << 20, length: 65536, tag: 5))
    backend.enqueue(
      BlockRequest(operation: .read, offset: 8 << 20, length: 512, iovecs: odd.iovecs, tag: 6))
    let collector = Collector()
    backend.drain { collector($0) }  // no submit first: drain must submit
    #expect(backend.inFlight == 0)
    #expect(collector.results == [1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: EIO])
    expectBytes(fileBytes(backend.path, at: 0, count: 65536), pattern(count: 65536, seed: 51))
    expectBytes(fileBytes(backend.path, at: 1 << 20, count: 512), pattern(count: 512, seed: 52))
  }

  @Test(arguments: FileEngine.allCases) func acceptsRequestsFromInsideDelivery(engine: FileEngine)
    throws
  {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("chain.img"), createSize: 1 << 20, queueDepth: 2, engine: engine)
    defer { backend.close() }
    let data = IOBuffer(bytes: 4096)
    data.fill(seed: 61)
    var seen: [UInt64] = []
    func request(_ tag: UInt64) -> BlockRequest {
      BlockRequest(
        operation: .write, offset: tag * 4096, length: 4096, iovecs: data.iovecs, tag: tag)
    }
    backend.enqueue(request(0))
    backend.drain { completion in
      seen.append(completion.tag)
      #expect(completion.succeeded)
      // Each completion starts the next request, as a reactor would.
      if completion.tag < 20 { backend.enqueue(request(completion.tag + 1)) }
    }
    #expect(seen == Array(0...20))
    #expect(backend.inFlight == 0)
    expectBytes(fileBytes(backend.path, at: 20 * 4096, count: 4096), pattern(count: 4096, seed: 61))
  }

  @Test(arguments: FileEngine.allCases) func signalsTheEventFDWhenWorkFinishes(engine: FileEngine)
    throws
  {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("fd.img"), createSize: 1 << 20, queueDepth: 8, engine: engine)
    defer { backend.close() }
    guard let fd = backend.completionFD else {
      Issue.record("a file backend needs a completion fd")
      return
    }
    let data = IOBuffer(bytes: 4096)
    backend.enqueue(
      BlockRequest(operation: .read, offset: 0, length: 4096, iovecs: data.iovecs, tag: 1))
    backend.enqueue(BlockRequest(operation: .discard, offset: 0, length: 4096, tag: 2))
    backend.enqueue(
      BlockRequest(operation: .read, offset: 1 << 30, length: 4096, iovecs: data.iovecs, tag: 3))
    backend.submit()
    // Waiting on the fd alone (as the reactor does) must see every result.
    let collector = Collector()
    while collector.order.count < 3 {
      var poller = PollSet()
      poller.append(borrowing: fd)
      // The timeout only turns a lost wakeup into a failure instead of a hang.
      guard (try? poller.wait(timeout: .milliseconds(30_000))) == 1 else {
        Issue.record("completion fd never became readable")
        break
      }
      backend.reap { collector($0) }
    }
    #expect(collector.results == [1: 0, 2: 0, 3: EIO])
    #expect(backend.inFlight == 0)
  }
}
