import BackendContract
import Glibc
import POSIX
import TestSupport
import Testing

@testable import BlockIO

/// `RBDBackend` against a real cluster (the one CEPH_CONF names; each test
/// skips in one line without it), each test on an image of its own.
@Suite struct RBDTests {
  static let zeroes = [UInt8](repeating: 0, count: 1 << 20)

  /// Vectored writes at offsets that straddle 4 MiB objects and the end,
  /// read back through differently cut vectors.
  @Test func vectoredWritesReadBackAtSeveralOffsets() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    #expect(backend.size == image.size)
    #expect(!backend.isReadOnly)
    #expect(backend.completionFD != nil)
    let pieces = [512, 3584, 4096, 1000, 24, 8192]
    let total = pieces.reduce(0, +)
    let offsets: [UInt64] = [0, (1 << 20) + 12_800, (4 << 20) - 5000, image.size - UInt64(total)]
    // All in flight at once.
    let writes = offsets.map { _ in IOBuffer(pieces: pieces) }
    for (index, buffer) in writes.enumerated() { buffer.fill(seed: UInt8(index + 1)) }
    let results = backend.run(
      zip(writes, offsets).enumerated().map { index, pair in
        BlockRequest(
          operation: .write, offset: pair.1, length: UInt64(total), iovecs: pair.0.iovecs,
          tag: UInt64(index))
      })
    #expect(results.values.allSatisfy { $0 == 0 })
    for (index, offset) in offsets.enumerated() {
      let reader = IOBuffer(pieces: [total - 700, 700])
      #expect(backend.read(reader, at: offset) == 0)
      expectBytes(reader.array, pattern(count: total, seed: UInt8(index + 1)))
    }
    expectBytes(backend.contents(at: 1 << 20, count: 4096), Array(Self.zeroes[..<4096]))
    #expect(backend.statistics.bytesWritten == UInt64(total * offsets.count))
    #expect(backend.statistics.failed == 0)
  }

  /// More vectors than librbd takes in one call go through a bounce buffer.
  @Test func manyVectorsAreBounced() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    let data = IOBuffer(pieces: [Int](repeating: 512, count: 1100))
    data.fill(seed: 9)
    #expect(backend.write(data, at: 4096) == 0)
    let back = IOBuffer(pieces: [Int](repeating: 256, count: 2200))
    #expect(backend.read(back, at: 4096) == 0)
    expectBytes(back.array, data.array)
    #expect(backend.statistics.bounced == 2)
  }

  /// More requests than slots wait in order and all complete.
  @Test func aBacklogBeyondTheQueueDepthCompletes() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open(queueDepth: 4)
    defer { backend.close() }
    let buffers = (0..<40).map { index in
      let buffer = IOBuffer(bytes: 4096)
      buffer.fill(seed: UInt8(index))
      return buffer
    }
    let results = backend.run(
      buffers.enumerated().map { index, buffer in
        BlockRequest(
          operation: .write, offset: UInt64(index) * 4096, length: 4096, iovecs: buffer.iovecs,
          forceUnitAccess: index % 3 == 0, tag: UInt64(index))
      })
    #expect(results.count == 40 && results.values.allSatisfy { $0 == 0 })
    #expect(backend.inFlight == 0)
    for index in [0, 17, 39] {
      expectBytes(
        backend.contents(at: UInt64(index) * 4096, count: 4096),
        pattern(count: 4096, seed: UInt8(index)))
    }
  }

  @Test func flushAndFUAWritesComplete() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    let data = IOBuffer(bytes: 8192)
    data.fill(seed: 4)
    #expect(backend.write(data, at: 1 << 20, fua: true) == 0)
    #expect(backend.range(.flush, at: 0, length: 0) == 0)
    backend.close()
    // What a fresh client sees is what was written.
    let again = try image.open()
    defer { again.close() }
    expectBytes(again.contents(at: 1 << 20, count: 8192), data.array)
  }

  /// Discard and write zeroes read back as zeroes, also for pieces of an
  /// object, and leave the bytes around them alone.
  @Test(arguments: [BlockOperation.discard, .writeZeroes])
  func rangesReadBackAsZeroes(operation: BlockOperation) throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    let data = IOBuffer(bytes: 6 << 20)
    data.fill(seed: 5)
    #expect(backend.write(data, at: 0) == 0)
    let (start, length) = (4608, (5 << 20) + 512)  // crosses the 4 MiB object boundary
    #expect(backend.range(operation, at: UInt64(start), length: UInt64(length)) == 0)
    var expected = data.array
    expected.replaceSubrange(start..<(start + length), with: repeatElement(0, count: length))
    expectBytes(backend.contents(at: 0, count: 6 << 20), expected)
  }

  /// Copies within one object, across chunks, and overlapping either way
  /// behave as a whole read followed by a write.
  @Test func copiesLikeMemmove() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    let data = IOBuffer(bytes: 8 << 20)
    data.fill(seed: 6)
    #expect(backend.write(data, at: 0) == 0)
    var model = data.array
    let cases: [(from: Int, to: Int, length: Int, fua: Bool)] = [
      (512, 9 << 20, 4096, false),  // into unwritten space
      (1 << 20, 10 << 20, (2 << 20) + 512, true),  // three chunks
      (0, 1536, 3 << 20, false),  // overlapping upwards: goes backwards
      (2 << 20, (2 << 20) - 4608, (2 << 20) + 1024, false),  // overlapping downwards
    ]
    model.append(contentsOf: repeatElement(0, count: 8 << 20))
    for (tag, copy) in cases.enumerated() {
      let result = backend.run(
        BlockRequest(
          operation: .copy(source: UInt64(copy.from)), offset: UInt64(copy.to),
          length: UInt64(copy.length), forceUnitAccess: copy.fua, tag: UInt64(tag)))
      #expect(result == 0, "copy \(tag)")
      let moved = Array(model[copy.from..<(copy.from + copy.length)])
      model.replaceSubrange(copy.to..<(copy.to + copy.length), with: moved)
    }
    expectBytes(backend.contents(at: 0, count: 16 << 20), model)
  }

  @Test func refusesRangesPastTheEnd() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf, size: 4 << 20)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    let buffer = IOBuffer(bytes: 1024)
    #expect(backend.read(buffer, at: image.size - 512) == EIO)
    #expect(backend.write(buffer, at: image.size) == EIO)
    #expect(backend.write(buffer, at: UInt64.max - 100) == EIO)
    #expect(backend.range(.discard, at: UInt64.max, length: 2) == EIO)
    #expect(backend.range(.writeZeroes, at: 0, length: image.size + 1) == EIO)
    let copy = BlockRequest(
      operation: .copy(source: UInt64.max - 1), offset: 0, length: 4096, tag: 9)
    #expect(backend.run(copy) == EIO)
    #expect(backend.read(buffer, at: image.size - 1024) == 0)  // the last bytes are fine
    #expect(backend.statistics.failed == 6)
  }

  /// A snapshot opens read-only, refuses every write, and reads the bytes
  /// it was taken with.
  @Test func aSnapshotIsReadOnly() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let data = IOBuffer(bytes: 4096)
    data.fill(seed: 7)
    do {
      let head = try image.open()
      defer { head.close() }
      #expect(head.write(data, at: 0) == 0)
    }
    try image.snapshot("s1")
    let head = try image.open()
    defer { head.close() }
    let later = IOBuffer(bytes: 4096)
    later.fill(seed: 8)
    #expect(head.write(later, at: 0) == 0)  // the head moves on

    let snap = try image.open(snap: "s1")
    defer { snap.close() }
    #expect(snap.isReadOnly)
    #expect(snap.write(data, at: 0) == EROFS)
    #expect(snap.range(.discard, at: 0, length: 4096) == EROFS)
    #expect(snap.range(.writeZeroes, at: 0, length: 4096) == EROFS)
    #expect(
      snap.run(BlockRequest(operation: .copy(source: 0), offset: 8192, length: 512, tag: 4))
        == EROFS)
    #expect(snap.range(.flush, at: 0, length: 0) == 0)
    expectBytes(snap.contents(at: 0, count: 4096), data.array)
    #expect(throws: BackendError(errno: EROFS)) { try snap.resize(to: 32 << 20) }

    let missing = openError { () throws(BlockIOError) in _ = try image.open(snap: "nope") }
    #expect(
      missing?.description
        == "rbd:rbd/\(image.name)@nope: snapshot 'nope' of image '\(image.name)' not found")
  }

  /// A second writer is refused while the first holds the exclusive lock,
  /// and gets in once it closes; a reader is not refused.
  @Test func aSecondWriterIsRefused() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let first = try image.open()
    defer { first.close() }
    let clock = ContinuousClock()
    let started = clock.now
    let error = openError { () throws(BlockIOError) in _ = try image.open() }
    #expect(clock.now - started < .seconds(20))
    #expect(error?.errno == Errno(EBUSY))
    #expect(
      error?.description.hasPrefix("rbd:rbd/\(image.name): image is locked by another client")
        == true, "\(error?.description ?? "opened")")
    let reader = try image.open(readOnly: true)
    #expect(reader.isReadOnly)
    reader.close()
    first.close()
    let second = try image.open()
    second.close()
  }

  @Test func aMissingPoolOrImageIsNamed() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let pool = openError { () throws(BlockIOError) in
      _ = try RBDBackend(spec: RBDSpec(pool: "nopool", image: "x", conf: conf))
    }
    #expect(pool?.description == "rbd:nopool/x: pool 'nopool' not found")
    #expect(pool?.errno == Errno(ENOENT))
    let image = openError { () throws(BlockIOError) in
      _ = try RBDBackend(spec: RBDSpec(pool: "rbd", image: "no-such-image", conf: conf))
    }
    #expect(
      image?.description == "rbd:rbd/no-such-image: image 'no-such-image' not found in pool 'rbd'")
  }

  /// Growing reads back zeroes; holdsData sees written objects only.
  @Test func resizesAndKnowsWhereDataIs() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let backend = try image.open()
    defer { backend.close() }
    #expect(!backend.holdsData(from: 0))
    let data = IOBuffer(bytes: 4096)
    data.fill(seed: 10)
    #expect(backend.write(data, at: 9 << 20) == 0)
    #expect(backend.holdsData(from: 0))
    #expect(backend.holdsData(from: 8 << 20))
    #expect(!backend.holdsData(from: 12 << 20))
    try backend.resize(to: 32 << 20)
    #expect(backend.size == 32 << 20)
    expectBytes(backend.contents(at: 31 << 20, count: 4096), Array(Self.zeroes[..<4096]))
    try backend.resize(to: 12 << 20)
    #expect(backend.size == 12 << 20)
    expectBytes(backend.contents(at: 9 << 20, count: 4096), data.array)
    #expect(backend.read(data, at: 12 << 20) == EIO)
  }

  @Test func theFactoryOpensRBD() throws {
    guard let conf = Ceph.conf(for: #function) else { return }
    let image = try TestImage(conf: conf)
    defer { image.remove() }
    let spec = try BackendSpec(parsing: "rbd:rbd/\(image.name),conf=\(conf)")
    let opened = try BackendFactory.open(spec: spec, size: 1 << 30, readOnly: true, blockSize: 4096)
    defer { opened.backend.close() }
    #expect(opened.backend is RBDBackend)
    #expect(opened.backend.isReadOnly)
    #expect(
      opened.warnings == [
        "rbd:rbd/\(image.name): has size \(image.size); ignoring the requested size \(1 << 30)"
      ])
  }
}

/// What needs no cluster of ours: a conf whose monitor is a closed port.
@Suite struct RBDUnreachableTests {
  @Test func anUnreachableClusterFailsWithinTheTimeout() throws {
    let dir = try TemporaryDirectory("rbd-unreachable")
    let conf = dir.file("ceph.conf")
    let text = "[global]\nmon host = 127.0.0.1:1\n"
    #expect(writeFile(conf, text))
    let clock = ContinuousClock()
    let started = clock.now
    let error = openError { () throws(BlockIOError) in
      _ = try RBDBackend(spec: RBDSpec(pool: "rbd", image: "img", conf: conf), timeout: 2)
    }
    let took = clock.now - started
    #expect(took < .seconds(20), "took \(took)")
    #expect(
      error?.description.hasPrefix(
        "rbd:rbd/img: cannot reach the cluster within 2 s (conf \(conf))") == true,
      "\(error?.description ?? "opened")")
    #expect(error?.errno == Errno(ETIMEDOUT))
  }
}

/// Writes `text` to a new file at `path`.
func writeFile(_ path: String, _ text: String) -> Bool {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { return false }
  defer { close(fd) }
  let bytes = Array(text.utf8)
  return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
}
