import BackendContract
import Glibc
import TestSupport
import Testing

@testable import BlockIO

enum Filesystems {
  /// The type of the filesystem `path` lives on, from the longest matching
  /// mount point in /proc/self/mounts.
  static func type(of path: String) -> String? {
    guard let file = fopen("/proc/self/mounts", "r") else { return nil }
    defer { fclose(file) }
    var best: (mount: String, type: String)?
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), file) != nil {
      let text = String(
        decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      let fields = text.split(separator: " ")
      guard fields.count >= 3 else { continue }
      let mount = String(fields[1])
      let covers = path == mount || path.hasPrefix(mount == "/" ? "/" : mount + "/")
      if covers && mount.count >= (best?.mount.count ?? -1) {
        best = (mount, String(fields[2]))
      }
    }
    return best?.type
  }

  static func isTmpfs(_ path: String) -> Bool? { type(of: path).map { $0 == "tmpfs" } }

  /// A directory on a disk filesystem that takes O_DIRECT, or nil (with the
  /// reason printed) when this machine has none.
  static func diskDirectory() -> TemporaryDirectory? {
    for base in ["/var/tmp", "/tmp"] where isTmpfs(base) == false {
      guard let dir = try? TemporaryDirectory("blockio-test", under: base) else { continue }
      let probe = dir.file("probe")
      let fd = open(probe, O_RDWR | O_CREAT | O_CLOEXEC | Linux.openDirect, 0o644)
      if fd >= 0 {
        close(fd)
        unlink(probe)
        return dir
      }
    }
    print("SKIP: no disk filesystem with O_DIRECT under /var/tmp or /tmp")
    return nil
  }

  /// A directory on tmpfs (/dev/shm), or nil with the reason printed.
  static func tmpfsDirectory() -> TemporaryDirectory? {
    if isTmpfs("/dev/shm") == true,
      let dir = try? TemporaryDirectory("blockio-test", under: "/dev/shm")
    {
      return dir
    }
    print("SKIP: /dev/shm is not a usable tmpfs")
    return nil
  }
}

/// Memory for request data with iovecs over it: page-aligned pieces, or
/// deliberately misaligned ones.
final class IOBuffer {
  let count: Int
  private let allocation: UnsafeMutableRawPointer
  /// Where the data starts: the allocation, or 1 byte past it when misaligned.
  let base: UnsafeMutableRawPointer
  let iovecs: UnsafeMutableBufferPointer<iovec>

  /// `pieces` are the iovec lengths (summing to the buffer's size);
  /// `misalign` shifts the data off the page boundary.
  init(pieces: [Int], misalign: Int = 0) {
    count = pieces.reduce(0, +)
    var raw: UnsafeMutableRawPointer?
    let status = posix_memalign(&raw, 4096, count + 4096)
    precondition(status == 0 && raw != nil, "test buffer allocation failed")
    allocation = raw.unsafelyUnwrapped
    allocation.initializeMemory(as: UInt8.self, repeating: 0, count: count + 4096)
    base = allocation + misalign
    iovecs = .allocate(capacity: pieces.count)
    var offset = 0
    for (index, length) in pieces.enumerated() {
      iovecs[index] = iovec(iov_base: base + offset, iov_len: length)
      offset += length
    }
  }

  convenience init(bytes: Int) { self.init(pieces: [bytes]) }

  deinit {
    iovecs.deallocate()
    free(allocation)
  }

  var bytes: UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: base, count: count)
  }

  /// Fills with a pattern that differs per byte and per `seed`.
  func fill(seed: UInt8) {
    pattern(count: count, seed: seed).withUnsafeBytes { bytes.copyMemory(from: $0) }
  }

  func fill(byte: UInt8) { bytes.initializeMemory(as: UInt8.self, repeating: byte) }

  var array: [UInt8] { Array(bytes) }
}

/// Records completions and checks each tag arrives once.
final class Collector {
  private(set) var results: [UInt64: Int32] = [:]
  private(set) var order: [UInt64] = []
  private(set) var duplicates: [UInt64] = []

  func callAsFunction(_ completion: BlockCompletion) {
    if results[completion.tag] != nil { duplicates.append(completion.tag) }
    results[completion.tag] = completion.errno
    order.append(completion.tag)
  }
}

extension BlockBackend {
  /// Enqueues, submits and drains; the completions by tag.
  func run(_ requests: [BlockRequest]) -> [UInt64: Int32] {
    let collector = Collector()
    for request in requests { enqueue(request) }
    submit()
    drain { collector($0) }
    #expect(collector.duplicates.isEmpty)
    #expect(collector.order.count == requests.count)
    return collector.results
  }

  /// One request's errno.
  func run(_ request: BlockRequest) -> Int32? { run([request])[request.tag] }

  func write(_ buffer: IOBuffer, at offset: UInt64, fua: Bool = false, tag: UInt64 = 1) -> Int32? {
    run(
      BlockRequest(
        operation: .write, offset: offset, length: UInt64(buffer.count), iovecs: buffer.iovecs,
        forceUnitAccess: fua, tag: tag))
  }

  func read(_ buffer: IOBuffer, at offset: UInt64, tag: UInt64 = 2) -> Int32? {
    run(
      BlockRequest(
        operation: .read, offset: offset, length: UInt64(buffer.count), iovecs: buffer.iovecs,
        tag: tag))
  }

  func range(
    _ operation: BackendContract.BlockOperation, at offset: UInt64, length: UInt64, tag: UInt64 = 3
  )
    -> Int32?
  {
    run(BlockRequest(operation: operation, offset: offset, length: length, tag: tag))
  }

  /// Reads `count` bytes at `offset` through a fresh aligned buffer.
  func contents(at offset: UInt64, count: Int) -> [UInt8]? {
    let buffer = IOBuffer(bytes: count)
    buffer.fill(byte: 0xEE)
    guard read(buffer, at: offset) == 0 else { return nil }
    return buffer.array
  }
}

/// Bytes of a file read with plain pread, bypassing the backend.
func fileBytes(_ path: String, at offset: Int, count: Int) -> [UInt8] {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return [] }
  defer { close(fd) }
  var result = [UInt8](repeating: 0xEE, count: count)
  let got = result.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
  return got == count ? result : []
}

/// Makes a file of `size` bytes filled with `byte`.
func makeFile(_ path: String, size: Int, byte: UInt8 = 0) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  precondition(fd >= 0, "cannot create \(path)")
  defer { close(fd) }
  if size > 0 {
    let data = [UInt8](repeating: byte, count: size)
    _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, size, 0) }
  }
}

/// Opening that throws anything but BlockIOError is a test failure; this
/// returns the typed error for inspection.
func openError(_ body: () throws(BlockIOError) -> Void) -> BlockIOError? {
  do {
    try body()
    return nil
  } catch {
    return error
  }
}

/// Compares byte arrays and reports the first difference. #expect on large
/// arrays would spend minutes diffing them on failure.
func expectBytes(
  _ actual: [UInt8]?, _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
) {
  if actual == expected { return }  // the fast, common case
  let problem: String? =
    if let actual {
      if let index = zip(actual, expected).enumerated().first(where: {
        $0.element.0 != $0.element.1
      })?.offset {
        "byte \(index): got \(actual[index]), want \(expected[index])"
      } else if actual.count != expected.count {
        "\(actual.count) bytes, want \(expected.count)"
      } else {
        nil
      }
    } else {
      "no data (the read failed)"
    }
  #expect(problem == nil, sourceLocation: sourceLocation)
}
