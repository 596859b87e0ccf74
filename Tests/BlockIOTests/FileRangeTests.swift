import Glibc
import TestSupport
import Testing

@testable import BlockIO

/// Discard and write zeroes, on the kernel's fast paths and the fallbacks.
@Suite struct FileRangeTests {
  static let seekData: Int32 = 3
  static let seekHole: Int32 = 4

  /// A 4 MiB image with a patterned 256 KiB at 1 MiB.
  static func patterned(
    _ dir: TemporaryDirectory, direct: Bool = true, engine: FileEngine
  ) throws -> FileBackend {
    let backend = try FileBackend(
      path: dir.file("range.img"), createSize: 4 << 20, queueDepth: 16, directIO: direct,
      engine: engine)
    let data = IOBuffer(bytes: 256 << 10)
    data.fill(seed: 71)
    #expect(backend.write(data, at: 1 << 20) == 0)
    return backend
  }

  /// The image's bytes around `[1 MiB + 64 KiB, +128 KiB)`: patterned, zero, patterned.
  static func expectZeroedMiddle(_ backend: FileBackend) {
    let whole = pattern(count: 256 << 10, seed: 71)
    var expected = whole
    expected.replaceSubrange((64 << 10)..<(192 << 10), with: repeatElement(0, count: 128 << 10))
    expectBytes(backend.contents(at: 1 << 20, count: 256 << 10), expected)
    expectBytes(fileBytes(backend.path, at: 1 << 20, count: 256 << 10), expected)
  }

  /// Where the next hole at or after `offset` starts, seen from a fresh fd.
  static func nextHole(_ path: String, from offset: Int) -> Int {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    defer { close(fd) }
    return lseek(fd, off_t(offset), seekHole)
  }

  static func nextData(_ path: String, from offset: Int) -> Int {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    defer { close(fd) }
    return lseek(fd, off_t(offset), seekData)
  }

  @Test(arguments: FileEngine.allCases) func discardPunchesAHole(engine: FileEngine) throws {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.patterned(dir, engine: engine)
    defer { backend.close() }
    let start = (1 << 20) + (64 << 10)
    #expect(Self.nextHole(backend.path, from: start) > start, "written data is no hole")
    #expect(backend.range(.discard, at: UInt64(start), length: 128 << 10) == 0)
    #expect(Self.nextHole(backend.path, from: start) == start)
    #expect(Self.nextData(backend.path, from: start) == start + (128 << 10))
    Self.expectZeroedMiddle(backend)
  }

  @Test(arguments: FileEngine.allCases) func discardWritesZeroesWithoutFallocate(engine: FileEngine)
    throws
  {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.patterned(dir, engine: engine)
    defer { backend.close() }
    backend.allowPunchHole = false
    backend.allowZeroRange = false
    let start = (1 << 20) + (64 << 10)
    #expect(backend.range(.discard, at: UInt64(start), length: 128 << 10) == 0)
    #expect(Self.nextHole(backend.path, from: start) > start, "zeroes were written, not punched")
    Self.expectZeroedMiddle(backend)
  }

  @Test(arguments: FileEngine.allCases) func writeZeroesOnADiskFilesystem(engine: FileEngine) throws
  {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.patterned(dir, engine: engine)
    defer { backend.close() }
    #expect(backend.range(.writeZeroes, at: (1 << 20) + (64 << 10), length: 128 << 10) == 0)
    Self.expectZeroedMiddle(backend)
    var info = stat()
    #expect(stat(backend.path, &info) == 0 && info.st_size == 4 << 20, "the size stays")
  }

  @Test(arguments: FileEngine.allCases) func writeZeroesByWritingThem(engine: FileEngine) throws {
    guard let dir = Filesystems.diskDirectory() else { return }
    let backend = try Self.patterned(dir, engine: engine)
    defer { backend.close() }
    backend.allowPunchHole = false
    backend.allowZeroRange = false
    // Larger than the helper's 1 MiB zero buffer, so it takes several writes.
    let data = IOBuffer(bytes: 3 << 20)
    data.fill(seed: 81)
    #expect(backend.write(data, at: 512 << 10) == 0)
    #expect(backend.range(.writeZeroes, at: 4096, length: 3 << 20) == 0)
    expectBytes(backend.contents(at: 4096, count: 3 << 20), [UInt8](repeating: 0, count: 3 << 20))
    // Right after the zeroed range the data is untouched.
    let after = (3 << 20) + 4096
    let expected = pattern(count: 3 << 20, seed: 81)[(after - (512 << 10))...].prefix(4096)
    expectBytes(fileBytes(backend.path, at: after, count: 4096), Array(expected))
    expectBytes(fileBytes(backend.path, at: 0, count: 4096), [UInt8](repeating: 0, count: 4096))
  }

  @Test(arguments: FileEngine.allCases) func rangesWorkOnTmpfs(engine: FileEngine) throws {
    guard let dir = Filesystems.tmpfsDirectory() else { return }
    let backend = try Self.patterned(dir, engine: engine)
    defer { backend.close() }
    print("tmpfs: O_DIRECT \(backend.isDirect ? "accepted" : "refused"), \(backend.warnings)")
    // tmpfs has no FALLOC_FL_ZERO_RANGE: write zeroes falls back to a hole.
    let start = (1 << 20) + (64 << 10)
    #expect(backend.range(.writeZeroes, at: UInt64(start), length: 128 << 10) == 0)
    Self.expectZeroedMiddle(backend)
    #expect(backend.range(.discard, at: 1 << 20, length: 64 << 10) == 0)
    #expect(Self.nextHole(backend.path, from: 1 << 20) == 1 << 20)
  }
}
