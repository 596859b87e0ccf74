import BackendContract
import Glibc
import TestSupport
import Testing

@testable import BlockIO

@Suite struct NullBackendTests {
  @Test func readsZeroesAndDropsWrites() {
    let backend = NullBackend(size: 1 << 20)
    #expect(backend.completionFD == nil)
    let data = IOBuffer(pieces: [512, 3584])
    data.fill(seed: 9)
    #expect(backend.write(data, at: 4096) == 0)
    let back = IOBuffer(pieces: [1000, 3096], misalign: 3)
    back.fill(byte: 0xAA)
    #expect(backend.read(back, at: 4096) == 0)
    expectBytes(back.array, [UInt8](repeating: 0, count: 4096))
    #expect(backend.statistics.bytesWritten == 4096)
    #expect(backend.statistics.bytesRead == 4096)
  }

  @Test func completesAtTheNextReapOnly() {
    let backend = NullBackend(size: 1 << 20)
    let collector = Collector()
    backend.enqueue(BlockRequest(operation: .flush, offset: 0, length: 0, tag: 5))
    backend.enqueue(BlockRequest(operation: .discard, offset: 0, length: 4096, tag: 6))
    backend.submit()
    #expect(backend.inFlight == 2)
    #expect(collector.order.isEmpty)
    #expect(backend.reap { collector($0) } == 2)
    #expect(collector.order == [5, 6])
    #expect(backend.inFlight == 0)
    #expect(backend.reap { collector($0) } == 0)
  }

  @Test func checksRangeAndReadOnly() {
    let backend = NullBackend(size: 8192)
    let data = IOBuffer(bytes: 4096)
    #expect(backend.write(data, at: 4096) == 0)
    #expect(backend.write(data, at: 4097) == EIO)
    #expect(backend.read(data, at: UInt64.max &- 10) == EIO)
    #expect(backend.range(.writeZeroes, at: 8192, length: 1) == EIO)
    let readOnly = NullBackend(size: 8192, readOnly: true)
    #expect(readOnly.write(data, at: 0) == EROFS)
    #expect(readOnly.range(.discard, at: 0, length: 512) == EROFS)
    #expect(readOnly.read(data, at: 0) == 0)
    #expect(readOnly.statistics.failed == 2)
  }
}

@Suite struct MemoryBackendTests {
  @Test func roundTripsThroughTheFactory() throws {
    let backend = try BackendFactory.open(spec: BackendSpec(parsing: "mem:1M")).backend
    let data = IOBuffer(pieces: [100, 412], misalign: 1)
    data.fill(seed: 3)
    #expect(backend.write(data, at: 512) == 0)
    expectBytes(backend.contents(at: 512, count: 512), pattern(count: 512, seed: 3))
    expectBytes(backend.contents(at: 0, count: 512), [UInt8](repeating: 0, count: 512))
    #expect(backend.range(.writeZeroes, at: 512, length: 256) == 0)
    let after = backend.contents(at: 512, count: 512)
    expectBytes(after, [UInt8](repeating: 0, count: 256) + pattern(count: 512, seed: 3)[256...])
    #expect(backend.read(data, at: (1 << 20) - 256) == EIO)
  }
}
