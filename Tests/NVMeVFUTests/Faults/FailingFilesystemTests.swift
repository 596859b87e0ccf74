import Foundation
import Glibc
import NVMe
import NVMeHostDriver
import TestSupport
import Testing

extension NVMeVFUTests.Faults {
  /// The image's filesystem fails under the running server: an ext4 on a
  /// loop device (root; mounted by the test) shut down with
  /// EXT4_IOC_SHUTDOWN, after which the kernel answers every read, write and
  /// fdatasync with EIO, as a dying disk would. Reads complete with
  /// Unrecovered Read Error, Write, Write Zeroes and Flush with Write Fault
  /// (media and data integrity errors, SCT 2; Linux's nvme driver reports
  /// both as BLK_STS_MEDIUM), each in the Error Information log with its LBA
  /// and counted in SMART; the controller stays ready, admin commands work,
  /// and SIGTERM still ends the server cleanly. Mounted again, the image
  /// holds everything flushed before the failure.
  @Test func failingFilesystemGivesMediaErrors() throws {
    let scratch = try TemporaryDirectory("eio")
    let mount: TestMount
    do {
      mount = try TestMount.ext4(in: scratch, megabytes: 64)
    } catch {
      print("EIO (filesystem shut down): not run (\(error))")
      return
    }
    defer { mount.unmount() }
    let image = "\(mount.path)/disk.img"
    try makeDurableSparseFile(image, bytes: 16 << 20)
    let server = try ServerProcess(in: scratch, backings: [image])
    let host = try server.host()
    let queue = try #require(try host.createIOQueues(count: 1, entries: 16).first)
    let chunk = 64 << 10
    let blocks = chunk / 512
    let buffer = try host.allocate(chunk)
    let logBuffer = try host.allocate(4096)
    for index in 0..<16 {
      let lba = UInt64(index * blocks)
      fillStamped(buffer, lba: lba, stamp: 0xE10)
      try host.execute(.write(lba: lba, blocks: blocks, buffer: buffer), on: queue)
    }
    try host.execute(.flush(), on: queue)
    #expect(try host.mediaErrors(buffer: logBuffer) == 0)

    try mount.shutdown(flushLog: false)
    let writeZeroes = NVMeCommand(
      opcode: NVMOpcode.writeZeroes.rawValue, namespaceID: 1, cdw10: 4096, cdw12: 127)
    let faults: [(name: String, command: NVMeCommand, lba: UInt64, expected: NVMeStatus)] = [
      ("read", .read(lba: 0, blocks: blocks, buffer: buffer), 0, .unrecoveredReadError),
      ("write", .write(lba: 2048, blocks: blocks, buffer: buffer), 2048, .writeFault),
      ("write zeroes", writeZeroes, 4096, .writeFault),
      ("flush", .flush(), 0, .writeFault),
    ]
    var seen: [String] = []
    for fault in faults {
      let status = try host.status(of: fault.command, on: queue)
      #expect(status.matches(fault.expected), "\(fault.name): \(status)")
      let logged = try host.newestError(buffer: logBuffer)
      #expect(logged.status.matches(fault.expected), "\(fault.name): \(logged)")
      #expect(logged.lba == fault.lba && logged.namespaceID == 1, "\(fault.name): \(logged)")
      #expect(logged.submissionQueueID == 1)
      seen.append("\(fault.name) \(status)")
    }
    let mediaErrors = try host.mediaErrors(buffer: logBuffer)
    #expect(mediaErrors == UInt64(faults.count))
    #expect(try host.controllerStatus() & 0b11 == 0b01, "ready, no fatal status")
    #expect(try host.identifyController().sn.isEmpty == false, "admin commands still served")
    let exit = server.terminate()
    #expect(exit == .exited(0), "\(String(describing: exit)): \(server.log)")

    try mount.remount()
    let fd = open(image, O_RDONLY | O_CLOEXEC)
    try #require(fd >= 0)
    defer { close(fd) }
    var intact = 0
    var bytes = [UInt8](repeating: 0, count: chunk)
    for index in 0..<16 {
      let read = bytes.withUnsafeMutableBytes {
        pread(fd, $0.baseAddress, chunk, off_t(index * chunk))
      }
      let lba = UInt64(index * blocks)
      let good = bytes.withUnsafeBytes { raw in
        read == chunk
          && (0..<blocks).allSatisfy {
            BlockStamp.stamp(in: raw, at: $0 * 512, lba: lba + UInt64($0)) == 0xE10
          }
      }
      if good { intact += 1 }
    }
    #expect(intact == 16, "the flushed 1 MiB survived the failure")
    print(
      "EIO faults injected: \(faults.count) (ext4 shut down under the server): \(seen.joined(separator: ", ")); SMART media errors \(mediaErrors); server exit status 0; flushed data intact after remount: \(intact)/16 chunks"
    )
  }
}
