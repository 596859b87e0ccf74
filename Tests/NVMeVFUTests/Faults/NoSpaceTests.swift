import Foundation
import Glibc
import NVMe
import TestSupport
import Testing
import VFIOUserClient

extension NVMeVFUTests.Faults {
  /// A 16 MiB sparse image on a 2 MiB tmpfs (mounted by the test; root):
  /// writes past the free space complete with Capacity Exceeded (NVM command
  /// set status 81h, which Linux's nvme driver turns into ENOSPC), the write
  /// that only partly fits included; it is no media error. What was written
  /// before stays readable, overwriting blocks that already have room still
  /// works, and the server shuts down cleanly.
  @Test func fullFilesystemGivesCapacityExceeded() throws {
    let scratch = try TemporaryDirectory("no-space")
    let mount: TestMount
    do {
      mount = try TestMount.tmpfs(in: scratch, size: 2 << 20)
    } catch {
      print("ENOSPC: not run (\(error))")
      return
    }
    defer { mount.unmount() }
    let server = try ServerProcess(
      in: scratch, backings: ["\(mount.path)/disk.img"],
      arguments: ["--size", "16M"])
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let chunk = 128 << 10
    let blocks = chunk / 512
    let buffer = try host.allocate(chunk)
    let logBuffer = try host.allocate(4096)

    // 1 MiB while there is room, flushed.
    for index in 0..<8 {
      let lba = UInt64(index * blocks)
      fillStamped(buffer, lba: lba, stamp: 1)
      try host.execute(.write(lba: lba, blocks: blocks, buffer: buffer), on: queue)
    }
    try host.execute(.flush(), on: queue)

    // 64 KiB more, so that a later 128 KiB write only half fits: the kernel
    // takes what fits (a short write) and refuses the rest.
    let half = try #require(buffer.slice(offset: 0, count: chunk / 2))
    fillStamped(half, lba: UInt64(127 * blocks), stamp: 1)
    try host.execute(.write(lba: UInt64(127 * blocks), blocks: blocks / 2, buffer: half), on: queue)

    // Then on until the filesystem is full, and a little further.
    var written = 8
    var failures: [(lba: UInt64, status: NVMeStatus)] = []
    while failures.count < 4, written < 127 {
      let lba = UInt64(written * blocks)
      fillStamped(buffer, lba: lba, stamp: 2)
      let status = try host.status(
        of: .write(lba: lba, blocks: blocks, buffer: buffer), on: queue)
      if status.isSuccess {
        #expect(failures.isEmpty, "a write succeeded after the filesystem was full")
      } else {
        failures.append((lba, status))
      }
      written += 1
    }
    #expect(failures.count == 4, "the 2 MiB filesystem filled up")
    for failure in failures {
      #expect(failure.status.matches(.capacityExceeded), "LBA \(failure.lba): \(failure.status)")
    }
    let newest = try host.newestError(buffer: logBuffer)
    #expect(newest.status.matches(.capacityExceeded))
    #expect(newest.lba == failures.last?.lba)
    #expect(newest.namespaceID == 1)
    #expect(try host.mediaErrors(buffer: logBuffer) == 0, "running out of space is no media error")

    // Blocks that have room still take writes; what was written is there.
    fillStamped(buffer, lba: 0, stamp: 3)
    try host.execute(.write(lba: 0, blocks: blocks, buffer: buffer), on: queue)
    try host.execute(.flush(), on: queue)
    var intact = 0
    for index in 0..<8 {
      let lba = UInt64(index * blocks)
      zero(buffer)
      try host.execute(.read(lba: lba, blocks: blocks, buffer: buffer), on: queue)
      if carries(buffer, lba: lba, stamp: index == 0 ? 3 : 1) { intact += 1 }
    }
    #expect(intact == 8)
    #expect(try host.controllerStatus() & 0b11 == 0b01, "ready, no fatal status")
    #expect(server.terminate() == .exited(0))
    print(
      "ENOSPC: 16 MiB sparse image on a 2 MiB tmpfs: 64 KiB and \(written - 8 - failures.count) more 128 KiB writes fit, then \(failures.count) of \(failures.count) failed with \(failures.first.map { "\($0.status)" } ?? "-") (Capacity Exceeded), media errors 0, the first 1 MiB intact (\(intact)/8 chunks), server exit status 0"
    )
  }
}
