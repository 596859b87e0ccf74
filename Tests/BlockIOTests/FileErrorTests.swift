import BackendContract
import Glibc
import TestSupport
import Testing

@testable import BlockIO

/// How failures reach the caller: always as a completion, with the errno.
@Suite struct FileErrorTests {
  @Test(arguments: FileEngine.allCases) func requestsBeyondTheEndFailWithEIO(engine: FileEngine)
    throws
  {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("end.img"), createSize: 1 << 20, queueDepth: 16, engine: engine)
    defer { backend.close() }
    let data = IOBuffer(bytes: 4096)
    let end = UInt64(1 << 20)
    #expect(backend.write(data, at: end - 4096) == 0, "the last block is inside")
    #expect(backend.write(data, at: end - 2048) == EIO)
    #expect(backend.read(data, at: end) == EIO)
    #expect(backend.read(data, at: UInt64.max - 1024) == EIO, "offset + length overflows")
    #expect(backend.range(.discard, at: end - 512, length: 1024) == EIO)
    #expect(backend.range(.writeZeroes, at: 0, length: UInt64.max) == EIO)
    #expect(backend.statistics.failed == 5)
    #expect(backend.statistics.completed == 6)
    var info = stat()
    #expect(stat(backend.path, &info) == 0 && info.st_size == 1 << 20, "nothing grew the file")
  }

  @Test(arguments: FileEngine.allCases) func aReadOnlyImageRefusesChanges(engine: FileEngine) throws
  {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let path = dir.file("ro.img")
    makeFile(path, size: 65536, byte: 0x33)
    let backend = try FileBackend(path: path, readOnly: true, queueDepth: 16, engine: engine)
    defer { backend.close() }
    let data = IOBuffer(bytes: 4096)
    data.fill(byte: 0x44)
    #expect(backend.write(data, at: 0) == EROFS)
    #expect(backend.write(data, at: 0, fua: true) == EROFS)
    #expect(backend.range(.discard, at: 0, length: 4096) == EROFS)
    #expect(backend.range(.writeZeroes, at: 0, length: 4096) == EROFS)
    #expect(backend.range(.flush, at: 0, length: 0) == 0)
    #expect(backend.read(data, at: 0) == 0)
    expectBytes(data.array, [UInt8](repeating: 0x33, count: 4096))
    expectBytes(fileBytes(path, at: 0, count: 65536), [UInt8](repeating: 0x33, count: 65536))
  }

  @Test(arguments: FileEngine.allCases) func aShortReadIsEIO(engine: FileEngine) throws {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("short.img"), createSize: 1 << 20, queueDepth: 16, engine: engine)
    defer { backend.close() }
    // Someone shrinks the image behind the backend's back.
    #expect(truncate(backend.path, 8192) == 0)
    let data = IOBuffer(bytes: 8192)
    #expect(backend.read(data, at: 4096) == EIO, "4096 of 8192 bytes is a short read")
    #expect(backend.read(data, at: 0) == 0)
  }

  @Test(arguments: FileEngine.allCases) func kernelErrorsArriveAsTheirErrno(engine: FileEngine)
    throws
  {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try FileIOTests.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    // Guest memory that is not mapped readable: the kernel reports EFAULT.
    guard let page = mmap(nil, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      page != MAP_FAILED
    else {
      Issue.record("mmap failed")
      return
    }
    defer { munmap(page, 8192) }
    let vectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: 1)
    defer { vectors.deallocate() }
    vectors[0] = iovec(iov_base: page, iov_len: 8192)
    let good = IOBuffer(bytes: 4096)
    let results = backend.run([
      BlockRequest(operation: .read, offset: 0, length: 4096, iovecs: good.iovecs, tag: 1),
      BlockRequest(operation: .read, offset: 8192, length: 8192, iovecs: vectors, tag: 2),
      BlockRequest(operation: .write, offset: 8192, length: 8192, iovecs: vectors, tag: 3),
    ])
    #expect(results == [1: 0, 2: EFAULT, 3: EFAULT])
    #expect(backend.statistics.failed == 2)
  }

  @Test(arguments: FileEngine.allCases) func aRequestTheKernelRefusesFailsAloneAndTheRestGoOn(
    engine: FileEngine
  ) throws {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("refuse.img"), createSize: 1 << 20, queueDepth: 16, engine: engine)
    defer { backend.close() }
    let buffers = (0..<3).map { _ in IOBuffer(bytes: 4096) }
    for (index, buffer) in buffers.enumerated() {
      backend.enqueue(
        BlockRequest(
          operation: .read, offset: UInt64(index) * 4096, length: 4096, iovecs: buffer.iovecs,
          tag: UInt64(index)))
    }
    switch engine {
    case .libaio:
      // Sabotage the middle iocb so io_submit rejects it (EBADF).
      let aio = try #require(backend.aio)
      aio.control(aio.queued.peek(1)).pointee.aio_fildes = -1
    case .ioUring:
      // An RWF bit no kernel knows: io_uring completes that one with EOPNOTSUPP.
      let uring = try #require(backend.uring)
      uring.requests[Int(uring.queued.peek(1))].rwFlags |= 0x4000_0000
    }
    backend.submit()
    // libaio: the first went in, the second was refused, the third went in
    // after it; io_uring takes all three in one call and fails the second.
    #expect(backend.statistics.submitCalls == (engine == .libaio ? 3 : 1))
    let collector = Collector()
    backend.drain { collector($0) }
    let refusal = engine == .libaio ? EBADF : EOPNOTSUPP
    #expect(collector.results == [0: 0, 1: refusal, 2: 0])
    #expect(collector.duplicates.isEmpty)
  }

  @Test(arguments: FileEngine.allCases) func directIOCannotTakeAMisalignedOffset(engine: FileEngine)
    throws
  {
    guard let dir = Filesystems.diskDirectory(),
      let backend = try FileIOTests.directBackend(dir, engine: engine)
    else { return }
    defer { backend.close() }
    let data = IOBuffer(bytes: 4096)
    #expect(backend.read(data, at: 100) == EINVAL)
    let odd = IOBuffer(pieces: [100])
    #expect(backend.read(odd, at: 0) == EINVAL, "a length that is not whole sectors")
  }

  @Test(arguments: FileEngine.allCases) func aVectorWithoutMemoryIsEFAULT(engine: FileEngine) throws
  {
    guard let dir = try? TemporaryDirectory("blockio-test") else { return }
    let backend = try FileBackend(
      path: dir.file("null.img"), createSize: 1 << 20, queueDepth: 16, engine: engine)
    defer { backend.close() }
    let vectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: 1)
    defer { vectors.deallocate() }
    vectors[0] = iovec(iov_base: nil, iov_len: 4096)
    let request = BlockRequest(operation: .write, offset: 0, length: 4096, iovecs: vectors, tag: 9)
    #expect(backend.run(request) == EFAULT)
  }
}
