import BackendContract
import Glibc
import TestSupport
import Testing

@testable import BlockIO

/// `.copy` on every backend: the bytes really move, overlap behaves as a
/// read of the whole source before any write, and bad ranges fail.
@Suite struct CopyTests {
  static func copy(
    _ backend: any BlockBackend, from source: UInt64, to destination: UInt64, length: UInt64,
    fua: Bool = false
  ) -> Int32? {
    backend.run(
      BlockRequest(
        operation: .copy(source: source), offset: destination, length: length,
        forceUnitAccess: fua, tag: 7))
  }

  /// A 16 MiB image with 8 MiB of pattern at 0.
  static func image(
    _ dir: TemporaryDirectory, direct: Bool = true, engine: FileEngine
  ) throws -> FileBackend {
    let backend = try FileBackend(
      path: dir.file("copy.img"), createSize: 16 << 20, queueDepth: 16, directIO: direct,
      engine: engine)
    let data = IOBuffer(bytes: 8 << 20)
    data.fill(seed: 91)
    #expect(backend.write(data, at: 0) == 0)
    return backend
  }

  static let source = pattern(count: 8 << 20, seed: 91)

  @Test(arguments: FileEngine.allCases, [true, false])
  func fileCopyMovesTheBytes(engine: FileEngine, direct: Bool) throws {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.image(dir, direct: direct, engine: engine)
    defer { backend.close() }
    // 4 MiB (the controller's MCL) in one request, FUA on.
    #expect(Self.copy(backend, from: 1 << 20, to: 9 << 20, length: 4 << 20, fua: true) == 0)
    let moved = Array(Self.source[(1 << 20)..<(5 << 20)])
    expectBytes(backend.contents(at: 9 << 20, count: 4 << 20), moved)
    expectBytes(fileBytes(backend.path, at: 9 << 20, count: 4 << 20), moved)
    expectBytes(backend.contents(at: 0, count: 8 << 20), Self.source)  // source untouched
    expectBytes(
      backend.contents(at: 8 << 20, count: 1 << 20), [UInt8](repeating: 0, count: 1 << 20))
  }

  /// Offsets that are 512-byte blocks but not filesystem (4 KiB) blocks.
  @Test(arguments: FileEngine.allCases) func fileCopyOfRangesNotAlignedToFilesystemBlocks(
    engine: FileEngine
  ) throws {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.image(dir, engine: engine)
    defer { backend.close() }
    let (from, to, length) = (UInt64(4096 + 512), UInt64((10 << 20) + 1536), UInt64(7 * 512))
    #expect(Self.copy(backend, from: from, to: to, length: length) == 0)
    let expected = Array(Self.source[Int(from)..<Int(from + length)])
    expectBytes(fileBytes(backend.path, at: Int(to), count: Int(length)), expected)
    expectBytes(
      fileBytes(backend.path, at: Int(to) - 512, count: 512), [UInt8](repeating: 0, count: 512))
    expectBytes(
      fileBytes(backend.path, at: Int(to + length), count: 512), [UInt8](repeating: 0, count: 512))
  }

  /// Overlap in both directions (copy_file_range refuses it; the buffered
  /// path must not read what it has already overwritten).
  @Test(arguments: FileEngine.allCases, [Int64(512 << 10), Int64(-(512 << 10))])
  func fileCopyOverlapping(engine: FileEngine, shift: Int64) throws {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.image(dir, engine: engine)
    defer { backend.close() }
    let from: UInt64 = 2 << 20
    let to = UInt64(Int64(from) + shift)
    let length: UInt64 = 3 << 20
    #expect(Self.copy(backend, from: from, to: to, length: length) == 0)
    expectBytes(
      fileBytes(backend.path, at: Int(to), count: Int(length)),
      Array(Self.source[Int(from)..<Int(from + length)]))
  }

  @Test(arguments: FileEngine.allCases) func fileCopyRefusals(engine: FileEngine) throws {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.image(dir, engine: engine)
    #expect(Self.copy(backend, from: 15 << 20, to: 0, length: 2 << 20) == EIO)
    #expect(Self.copy(backend, from: 0, to: 15 << 20, length: 2 << 20) == EIO)
    #expect(Self.copy(backend, from: UInt64.max - 511, to: 0, length: 512) == EIO)
    if backend.isDirect && backend.alignment > 1 {
      #expect(Self.copy(backend, from: 1, to: 1 << 20, length: 512) == EINVAL)
    }
    #expect(Self.copy(backend, from: 0, to: 0, length: 0) == 0)
    expectBytes(backend.contents(at: 0, count: 8 << 20), Self.source)
    backend.close()
    let readOnly = try FileBackend(path: dir.file("copy.img"), readOnly: true, engine: engine)
    defer { readOnly.close() }
    #expect(Self.copy(readOnly, from: 0, to: 8 << 20, length: 4096) == EROFS)
  }

  @Test func memoryCopyIsAMemmove() throws {
    let backend = try #require(MemoryBackend(size: 16 << 20))
    let data = pattern(count: 8 << 20, seed: 92)
    data.withUnsafeBytes { backend.bytes.copyMemory(from: $0) }
    #expect(Self.copy(backend, from: 512, to: 9 << 20, length: 4 << 20) == 0)
    #expect(Array(backend.bytes[(9 << 20)..<(13 << 20)]) == Array(data[512..<((4 << 20) + 512)]))
    // Overlapping, both ways.
    #expect(Self.copy(backend, from: 0, to: 4096, length: 1 << 20) == 0)
    #expect(Array(backend.bytes[4096..<((1 << 20) + 4096)]) == Array(data[0..<(1 << 20)]))
    #expect(Self.copy(backend, from: 4096, to: 0, length: 1 << 20) == 0)
    #expect(Array(backend.bytes[0..<(1 << 20)]) == Array(data[0..<(1 << 20)]))
    #expect(Self.copy(backend, from: 0, to: (16 << 20) - 512, length: 1024) == EIO)
    #expect(Self.copy(backend, from: UInt64.max, to: 0, length: 2) == EIO)
    let readOnly = try #require(MemoryBackend(size: 1 << 20, readOnly: true))
    #expect(Self.copy(readOnly, from: 0, to: 4096, length: 512) == EROFS)
  }

  @Test func nullCopyChecksOnlyTheRanges() {
    let backend = NullBackend(size: 1 << 20)
    #expect(Self.copy(backend, from: 0, to: 4096, length: 512) == 0)
    #expect(Self.copy(backend, from: (1 << 20) - 256, to: 0, length: 512) == EIO)
    #expect(
      Self.copy(NullBackend(size: 1 << 20, readOnly: true), from: 0, to: 512, length: 512) == EROFS)
  }
}
