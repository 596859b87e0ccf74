import Foundation
import Glibc
import NVMe
import TestSupport
import Testing
import VFIOUserClient

extension NVMeVFUTests.Faults {
  /// The server process is killed (SIGKILL) at a random point after a Flush
  /// completed, 30 times: every block written before the Flush is in the
  /// image, as is every FUA write that completed. Where the test can mount
  /// an ext4 on a loop device, the image lives there and the filesystem is
  /// shut down without its journal right after the kill, then mounted again:
  /// the image keeps only what the server made durable (fdatasync), as after
  /// a power cut, so a Flush acknowledged before its fdatasync loses blocks.
  /// Without that (not root, no mkfs.ext4), the kill alone still catches a
  /// server that acknowledges writes or flushes before the data reached the
  /// kernel. Set NVME_VFU_FAULT_SEED to replay a run's kill points.
  @Test func flushedWritesSurviveAServerKill() throws {
    let scratch = try TemporaryDirectory("flush-kill")
    let seed =
      ProcessInfo.processInfo.environment["NVME_VFU_FAULT_SEED"].flatMap { UInt64($0) }
      ?? UInt64.random(in: 1...999_999)
    var random = SplitMix64(seed: seed)
    var mount: TestMount?
    do {
      mount = try TestMount.ext4(in: scratch, megabytes: 64)
    } catch {
      print("flush-kill: no ext4 to shut down (\(error)); checking the image after SIGKILL alone")
    }
    defer { mount?.unmount() }
    let image = "\(mount?.path ?? scratch.path)/disk.img"
    try makeDurableSparseFile(image, bytes: 16 << 20)

    var tally = FlushKillTally()
    var last = FlushKillRound()
    for iteration in 1...30 {
      let server = try ServerProcess(in: scratch, backings: [image])
      let round = try FlushKillRound.run(
        server: server, iteration: UInt64(iteration), random: &random)
      #expect(round.serverExit == .signaled(SIGKILL))
      if let mount {
        try mount.shutdown(flushLog: false)
        try mount.remount()
      }
      try round.check(image: image, into: &tally)
      tally.killPoints[round.killPoint, default: 0] += 1
      last = round
    }
    #expect(tally.lost == 0, "first losses: \(tally.losses.prefix(8))")
    #expect(tally.verified > 0)

    // A server started on the image again (the dead one's lock and socket
    // file are no obstacle) reads what the file holds.
    let server = try ServerProcess(in: scratch, backings: [image])
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let buffer = try host.allocate(FlushKillRound.chunkBytes)
    var rereadChunks = 0
    for (chunk, stamp) in last.flushed.sorted(by: { $0.key < $1.key }) {
      let lba = UInt64(chunk) * UInt64(FlushKillRound.chunkBlocks)
      try host.execute(
        .read(lba: lba, blocks: FlushKillRound.chunkBlocks, buffer: buffer), on: queue)
      let acceptable = last.later[chunk, default: []].union([stamp])
      #expect(
        (0..<FlushKillRound.chunkBlocks).allSatisfy { block in
          BlockStamp.stamp(
            in: UnsafeRawBufferPointer(buffer.bytes), at: block * BlockStamp.blockSize,
            lba: lba + UInt64(block)
          ).map(acceptable.contains) == true
        }, "chunk \(chunk) read through the restarted server")
      rereadChunks += 1
    }
    #expect(server.terminate() == .exited(0))
    let points = tally.killPoints.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    print(
      "flush-kill iterations: 30 (\(mount == nil ? "SIGKILL only" : "SIGKILL, then ext4 shut down without its journal and remounted")), seed \(seed), kill points: \(points.joined(separator: ", ")); blocks verified: \(tally.verified) (FUA \(tally.forceUnitAccessVerified)), lost: \(tally.lost); last round's \(rereadChunks) flushed chunks read back through a restarted server"
    )
  }
}

/// Creates a sparse file of `bytes` and makes it (and its name) durable, as
/// an image that existed before the server ever ran.
func makeDurableSparseFile(_ path: String, bytes: Int) throws {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  let directory = open(
    URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
  defer {
    if fd >= 0 { close(fd) }
    if directory >= 0 { close(directory) }
  }
  guard fd >= 0, directory >= 0, ftruncate(fd, off_t(bytes)) == 0, fsync(fd) == 0,
    fsync(directory) == 0
  else {
    throw ChildProcess.SpawnError(description: "\(path): \(String(cString: strerror(errno)))")
  }
}

/// What the flush-kill iterations found.
struct FlushKillTally {
  var verified = 0
  var forceUnitAccessVerified = 0
  var lost = 0
  var losses: [String] = []
  var killPoints: [String: Int] = [:]
}

/// One iteration: writes, a Flush, more or less after it, then the kill.
struct FlushKillRound {
  static let chunkBlocks = 8
  static let chunkBytes = chunkBlocks * BlockStamp.blockSize
  /// Chunks of the 16 MiB image in use (4 MiB).
  static let chunks = 1024

  /// Chunk -> stamp of the write that completed before the Flush was sent.
  var flushed: [Int: UInt64] = [:]
  /// Chunk -> stamps of writes sent after the Flush (each may or may not be
  /// in the image).
  var later: [Int: Set<UInt64>] = [:]
  /// Chunk -> stamp of a FUA write that completed before the kill.
  var forceUnitAccess: [Int: UInt64] = [:]
  var killPoint = ""
  var serverExit: ChildProcess.Exit?

  /// Runs the iteration and kills the server at its kill point, while this
  /// client is still attached with whatever it left in flight.
  static func run(server: ServerProcess, iteration: UInt64, random: inout SplitMix64) throws
    -> FlushKillRound
  {
    var round = FlushKillRound()
    let host = try server.host {
      $0.ramSize = 2 << 20
      $0.completionMode = .interrupt
    }
    let queue = try #require(try host.createIOQueues(count: 1, entries: 64).first)
    let buffers = try (0..<48).map { _ in try host.allocate(chunkBytes) }
    var sequence: UInt64 = 0
    var chunkPool = Array(0..<chunks).shuffled(using: &random)

    /// Sends a write of a fresh stamp to `chunk` from buffer `index`.
    func write(_ chunk: Int, buffer index: Int, fua: Bool = false) throws -> UInt64 {
      sequence += 1
      let stamp = iteration << 32 | sequence
      let lba = UInt64(chunk) * UInt64(chunkBlocks)
      fillStamped(buffers[index], lba: lba, stamp: stamp)
      try queue.submit(
        .write(lba: lba, blocks: chunkBlocks, buffer: buffers[index], forceUnitAccess: fua),
        ring: false)
      return stamp
    }
    func completeAll() throws {
      try queue.process(minimum: queue.outstanding, timeoutMilliseconds: 10_000) { completion in
        #expect(completion.isSuccess, "write: \(completion.status)")
      }
    }

    // Before the Flush: 32 writes, all completed.
    var flushedChunks: [Int] = []  // in order, so a seed replays the same run
    for index in 0..<32 {
      let chunk = chunkPool.removeLast()
      round.flushed[chunk] = try write(chunk, buffer: index)
      flushedChunks.append(chunk)
    }
    try queue.ringDoorbell()
    try completeAll()
    try host.execute(.flush(), on: queue)

    // After it: one of five kill points.
    let count = Int.random(in: 1...16, using: &random)
    func laterWrites() throws {
      for index in 0..<count {
        let chunk =
          Bool.random(using: &random)
          ? flushedChunks.randomElement(using: &random) ?? 0 : chunkPool.removeLast()
        round.later[chunk, default: []].insert(try write(chunk, buffer: 32 + index))
      }
      try queue.ringDoorbell()
    }
    switch Int.random(in: 0..<5, using: &random) {
    case 0:
      round.killPoint = "right after the Flush"
    case 1:
      round.killPoint = "writes in flight"
      try laterWrites()
      usleep(UInt32.random(in: 0...500, using: &random))
    case 2:
      round.killPoint = "writes completed, not flushed"
      try laterWrites()
      try completeAll()
    case 3:
      round.killPoint = "writes and a Flush in flight"
      try laterWrites()
      try queue.submit(.flush())
    default:
      round.killPoint = "FUA writes completed"
      var stamps: [Int: UInt64] = [:]
      for index in 0..<count {
        let chunk = chunkPool.removeLast()
        stamps[chunk] = try write(chunk, buffer: 32 + index, fua: true)
      }
      try queue.ringDoorbell()
      try completeAll()
      round.forceUnitAccess = stamps
    }
    round.serverExit = server.kill()
    withExtendedLifetime(host) {}
    return round
  }

  /// Reads the image file itself: each block written before the Flush holds
  /// that write or one sent after it, each completed FUA write is there.
  func check(image: String, into tally: inout FlushKillTally) throws {
    let fd = open(image, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw ChildProcess.SpawnError(description: "\(image): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: Self.chunkBytes)
    func verify(_ chunk: Int, acceptable: Set<UInt64>) -> Int {
      let offset = off_t(chunk) * off_t(Self.chunkBytes)
      let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
      var good = 0
      for block in 0..<Self.chunkBlocks {
        let lba = UInt64(chunk * Self.chunkBlocks + block)
        let found =
          count == Self.chunkBytes
          ? bytes.withUnsafeBytes {
            BlockStamp.stamp(in: $0, at: block * BlockStamp.blockSize, lba: lba)
          } : nil
        if let found, acceptable.contains(found) {
          good += 1
        } else {
          tally.losses.append(
            "\(killPoint): LBA \(lba) holds \(found.map { String($0, radix: 16) } ?? "no stamp")")
        }
      }
      return good
    }
    for (chunk, stamp) in flushed {
      let good = verify(chunk, acceptable: later[chunk, default: []].union([stamp]))
      tally.verified += good
      tally.lost += Self.chunkBlocks - good
    }
    for (chunk, stamp) in forceUnitAccess {
      let good = verify(chunk, acceptable: [stamp])
      tally.verified += good
      tally.forceUnitAccessVerified += good
      tally.lost += Self.chunkBlocks - good
    }
  }
}
