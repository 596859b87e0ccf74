import BackendContract
import BlockIO
import Glibc
import Testing

@Suite struct MemoryBackendRoundTripTests {
  @Test func writeThenReadReturnsTheBytesAndCompletesOnce() throws {
    let backend = try #require(MemoryBackend(size: 8192))
    var source = [UInt8](repeating: 0, count: 1024)
    for index in source.indices { source[index] = UInt8(truncatingIfNeeded: index &* 7) }
    var sink = [UInt8](repeating: 0xEE, count: 1024)
    var tags: [UInt64] = []
    // The iovecs must stay valid until the request completes: each request
    // is submitted and reaped inside the scope of its pointer.
    source.withUnsafeMutableBytes { src in
      var vector = iovec(iov_base: src.baseAddress, iov_len: src.count)
      withUnsafeMutablePointer(to: &vector) { pointer in
        backend.enqueue(
          BlockRequest(
            operation: .write, offset: 512, length: 1024,
            iovecs: UnsafeMutableBufferPointer(start: pointer, count: 1), tag: 1))
        backend.submit()
        backend.reap { tags.append($0.tag) }
      }
    }
    sink.withUnsafeMutableBytes { dst in
      var vector = iovec(iov_base: dst.baseAddress, iov_len: dst.count)
      withUnsafeMutablePointer(to: &vector) { pointer in
        backend.enqueue(
          BlockRequest(
            operation: .read, offset: 512, length: 1024,
            iovecs: UnsafeMutableBufferPointer(start: pointer, count: 1), tag: 2))
        backend.drain { tags.append($0.tag) }
      }
    }
    #expect(tags == [1, 2])
    #expect(sink == source)
    #expect(backend.inFlight == 0)
  }

  @Test func requestPastTheEndFailsWithEIO() throws {
    let backend = try #require(MemoryBackend(size: 4096))
    var result: BlockCompletion?
    backend.enqueue(BlockRequest(operation: .writeZeroes, offset: 4000, length: 512, tag: 9))
    // Nothing happens before `submit`, as with a file backend.
    #expect(backend.reap { result = $0 } == 0)
    #expect(backend.inFlight == 1)
    backend.submit()
    backend.reap { result = $0 }
    #expect(result == BlockCompletion(tag: 9, errno: EIO))
  }
}
