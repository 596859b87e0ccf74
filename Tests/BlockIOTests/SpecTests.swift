import Glibc
import POSIX
import Testing

@testable import BlockIO

@Suite struct ByteSizeTests {
  static let good: [(String, UInt64)] = [
    ("512", 512), ("4k", 4096), ("4K", 4096), ("64M", 64 << 20), ("64mb", 64 << 20),
    ("1G", 1 << 30), ("1GiB", 1 << 30), ("1gib", 1 << 30), ("2T", 2 << 40), ("512B", 512),
    ("1kb", 1024), ("007", 7), ("16777215T", 16_777_215 << 40),
  ]

  @Test(arguments: good)
  func parsesGoodSizes(text: String, bytes: UInt64) throws {
    #expect(try ByteSize.parse(text) == bytes)
  }

  @Test(arguments: [
    "", "0", "0G", "M", "12X", "-1", "+1", "1.5G", " 1G", "1G ", "1 G", "1iB", "1KiBB", "1KBi",
    "1Gi", "99999999999999999999", "16777216T", "18446744073709551616", "1e3", "１G",
  ])
  func rejectsBadSizes(text: String) {
    let error = openError { () throws(BlockIOError) in _ = try ByteSize.parse(text) }
    #expect(error?.errno == Errno(EINVAL))
    #expect(error?.subject == "size '\(text)'")
  }

  @Test func explainsWhatIsWrong() {
    let zero = openError { () throws(BlockIOError) in _ = try ByteSize.parse("0M") }
    #expect(zero?.description == "size '0M': must not be zero")
    let big = openError { () throws(BlockIOError) in _ = try ByteSize.parse("16777216T") }
    #expect(big?.description == "size '16777216T': too large")
    let junk = openError { () throws(BlockIOError) in _ = try ByteSize.parse("12X") }
    #expect(junk?.description.hasPrefix("size '12X': not a size") == true)
  }

  @Test func formatsExactly() {
    #expect(ByteSize.format(64 << 20) == "64M")
    #expect(ByteSize.format(1 << 30) == "1G")
    #expect(ByteSize.format(1536 << 10) == "1536K")
    #expect(ByteSize.format(1000) == "1000")
    #expect(ByteSize.format(3 << 40) == "3T")
  }
}

@Suite struct BackendSpecTests {
  @Test func parsesEachKind() throws {
    #expect(try BackendSpec(parsing: "mem:64M") == .memory(size: 64 << 20))
    #expect(try BackendSpec(parsing: "null:1GiB") == .null(size: 1 << 30))
    #expect(try BackendSpec(parsing: "disk.img") == .file(path: "disk.img"))
    #expect(try BackendSpec(parsing: "/dev/nvme0n1") == .file(path: "/dev/nvme0n1"))
    #expect(try BackendSpec(parsing: "file:mem:1G") == .file(path: "mem:1G"))
    #expect(try BackendSpec(parsing: "./mem:1G") == .file(path: "./mem:1G"))
    #expect(try BackendSpec(parsing: "file:foo:1G") == .file(path: "foo:1G"))
    #expect(try BackendSpec(parsing: "./foo:1G") == .file(path: "./foo:1G"))
    #expect(try BackendSpec(parsing: "/srv/a:b") == .file(path: "/srv/a:b"))
    #expect(try BackendSpec(parsing: "1:2") == .file(path: "1:2"), "no scheme starts with a digit")
  }

  /// A typo'd or unsupported scheme is refused with the ones there are, not opened as a
  /// file named "foo:1G".
  @Test func refusesAnUnknownSchemeNamingTheKnownOnes() {
    let error = openError { () throws(BlockIOError) in _ = try BackendSpec(parsing: "foo:1G") }
    #expect(
      error?.description
        == "backing 'foo:1G': unknown scheme 'foo:' (expected file:PATH, mem:SIZE, null:SIZE, rbd:POOL/IMAGE or a path; a file so named is file:foo:1G or ./foo:1G)"
    )
    #expect(error?.errno == Errno(EINVAL))
  }

  @Test func unambiguousSpellingParsesBack() throws {
    for spec: BackendSpec in [
      .file(path: "mem:1G"), .file(path: "foo:1G"), .file(path: "x.img"), .memory(size: 4096),
      .file(path: "/a:b"),
    ] {
      #expect(try BackendSpec(parsing: spec.unambiguousSpelling) == spec)
    }
    #expect(BackendSpec.file(path: "foo:1G").unambiguousSpelling == "file:foo:1G")
    #expect(BackendSpec.file(path: "x.img").unambiguousSpelling == "x.img")
  }

  @Test func parsesTheEngineOfAFile() throws {
    #expect(
      try BackendSpec(parsing: "d.img,engine=io_uring") == .file(path: "d.img", engine: .ioUring))
    #expect(try BackendSpec(parsing: "d.img,engine=libaio") == .file(path: "d.img"))
    #expect(
      try BackendSpec(parsing: "file:mem:1G,engine=io_uring")
        == .file(path: "mem:1G", engine: .ioUring))
    #expect(
      try BackendSpec(parsing: "a,b.img") == .file(path: "a,b.img"), "a comma alone is a name")
    let spec = BackendSpec.file(path: "foo:1G", engine: .ioUring)
    #expect(spec.description == "foo:1G,engine=io_uring")
    #expect(spec.unambiguousSpelling == "file:foo:1G,engine=io_uring")
    #expect(try BackendSpec(parsing: spec.unambiguousSpelling) == spec)
    #expect(
      try BackendSpec(parsing: "x.img,engine=io_uring").description == "x.img,engine=io_uring")
  }

  @Test func refusesAnUnknownEngineOrOneForMemory() {
    let typo = openError { () throws(BlockIOError) in
      _ = try BackendSpec(parsing: "d.img,engine=uring")
    }
    #expect(
      typo?.description
        == "backing 'd.img,engine=uring': unknown engine 'uring' (expected libaio or io_uring)")
    let memory = openError { () throws(BlockIOError) in
      _ = try BackendSpec(parsing: "mem:1G,engine=io_uring")
    }
    #expect(memory?.description == "backing 'mem:1G,engine=io_uring': engine= is for files only")
  }

  @Test(arguments: ["", "mem:", "mem:0", "null:abc", "mem:1.5G", "file:", "null:-4k"])
  func rejectsBadSpecs(text: String) {
    let error = openError { () throws(BlockIOError) in _ = try BackendSpec(parsing: text) }
    #expect(error?.errno == Errno(EINVAL))
  }

  @Test func describesItself() throws {
    #expect(BackendSpec.memory(size: 64 << 20).description == "mem:64M")
    #expect(BackendSpec.null(size: 4096).description == "null:4K")
    #expect(BackendSpec.file(path: "a/b.img").description == "a/b.img")
    for text in ["mem:64M", "null:1G", "x.img"] {
      #expect(try BackendSpec(parsing: text).description == text)
    }
  }
}

@Suite struct FactoryTests {
  @Test func opensMemoryAndNull() throws {
    let memory = try BackendFactory.open(spec: .memory(size: 1 << 20)).backend
    #expect(memory is MemoryBackend)
    #expect(memory.size == 1 << 20)
    let null = try BackendFactory.open(spec: .null(size: 1 << 30), readOnly: true).backend
    #expect(null is NullBackend)
    #expect(null.size == 1 << 30)
    #expect(null.isReadOnly)
  }

  @Test func rejectsSizesThatAreNotWholeBlocks() {
    let error = openError { () throws(BlockIOError) in
      _ = try BackendFactory.open(spec: .memory(size: 1000))
    }
    #expect(
      error?.description == "mem:1000: size 1000 is not a multiple of the 512-byte block size")
    let big = openError { () throws(BlockIOError) in
      _ = try BackendFactory.open(spec: .null(size: 6144), blockSize: 4096)
    }
    #expect(big?.reason == "size 6144 is not a multiple of the 4096-byte block size")
  }

  @Test func rejectsBadBlockSizesAndConflictingSizes() {
    for blockSize in [0, 256, 1000, 3072, 1 << 17] {
      let error = openError { () throws(BlockIOError) in
        _ = try BackendFactory.open(spec: .null(size: 1 << 20), blockSize: blockSize)
      }
      #expect(error?.errno == Errno(EINVAL), "block size \(blockSize)")
    }
    let conflict = openError { () throws(BlockIOError) in
      _ = try BackendFactory.open(spec: .memory(size: 1 << 20), size: 2 << 20)
    }
    #expect(conflict?.errno == Errno(EINVAL))
    #expect((try? BackendFactory.open(spec: .memory(size: 1 << 20), size: 1 << 20)) != nil)
  }

  @Test func reportsMemoryThatCannotBeHad() {
    let error = openError { () throws(BlockIOError) in
      _ = try BackendFactory.open(spec: .memory(size: UInt64(1) << 62))
    }
    #expect(error?.errno == Errno(ENOMEM))
  }
}
