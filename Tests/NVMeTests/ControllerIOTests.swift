import BlockIO
import Glibc
import TestSupport
import Testing

@testable import NVMe

/// NVM I/O commands: what each does to the namespace and its statuses.
@Suite struct ControllerIOTests {
  typealias H = ControllerHarness

  @Test func writeThenReadRoundTrip() throws {
    let harness = try H.ready()
    let data = pattern(count: 512, seed: 1)
    harness.memory.poke(H.page(16), data)
    let write = try #require(
      harness.execute(H.rw(.write, slba: 3, blocks: 1, prp1: H.page(16)), queue: 1))
    #expect(write.status == .success)
    #expect(write.submissionQueueIdentifier == 1)
    #expect(write.submissionQueueHead == 1)
    #expect(write.dw0 == 0)
    #expect(harness.stored(offset: 3 * 512, count: 512) == data)
    #expect(harness.stored(offset: 2 * 512, count: 512).allSatisfy { $0 == 0 })
    let (status, read) = harness.read(slba: 3, blocks: 1)
    #expect(status == .success)
    #expect(read == data)
    #expect(harness.interrupts.suffix(2) == [1, 1])  // queue 1's vector
  }

  @Test func forceUnitAccessReachesTheBackend() throws {
    let harness = try H.ready()
    harness.memory.poke(H.page(16), pattern(count: 1024, seed: 2))
    let fua = H.rw(.write, slba: 0, blocks: 2, prp1: H.page(16), cdw12Flags: 1 << 30)
    #expect(harness.io(fua) == .success)
    #expect(harness.io(H.rw(.write, slba: 4, blocks: 2, prp1: H.page(16))) == .success)
    let writes = harness.recorders[0].operations(.write)
    #expect(writes.map(\.forceUnitAccess) == [true, false])
    #expect(writes.map(\.offset) == [0, 2048])
    #expect(writes.map(\.length) == [1024, 1024])
    #expect(harness.stored(offset: 0, count: 1024) == pattern(count: 1024, seed: 2))
  }

  @Test func flushOneNamespaceOrAll() throws {
    let harness = try H.ready(namespaceSizes: [1 << 20, 1 << 20])
    let flush = { (nsid: UInt32) in
      harness.io(
        SubmissionQueueEntry(
          opcode: NVMOpcode.flush.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid))
    }
    #expect(flush(1) == .success)
    #expect(harness.recorders.map { $0.operations(.flush).count } == [1, 0])
    #expect(flush(0xFFFF_FFFF) == .success)
    #expect(harness.recorders.map { $0.operations(.flush).count } == [2, 1])
    #expect(flush(0) == .invalidNamespaceOrFormat)
    #expect(flush(3) == .invalidNamespaceOrFormat)
    #expect(harness.recorders.map { $0.operations(.flush).count } == [2, 1])
  }

  @Test func writeZeroesClearsOnlyItsRange() throws {
    let harness = try H.ready()
    let data = pattern(count: 8 * 512, seed: 3)
    #expect(harness.write(data, slba: 0) == .success)
    let zeroes = SubmissionQueueEntry(
      opcode: NVMOpcode.writeZeroes.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
      cdw10: 2, cdw12: 3)
    #expect(harness.io(zeroes) == .success)
    let stored = harness.stored(offset: 0, count: 8 * 512)
    #expect(Array(stored[0..<1024]) == Array(data[0..<1024]))
    #expect(stored[1024..<3072].allSatisfy { $0 == 0 })
    #expect(Array(stored[3072...]) == Array(data[3072...]))
    // Not bounded by MDTS: the whole namespace (2048 blocks) in one command.
    var whole = zeroes
    whole.cdw10 = 0
    whole.cdw12 = 2047
    #expect(harness.io(whole) == .success)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
    whole.cdw12 = 2048
    #expect(harness.io(whole) == .lbaOutOfRange)
  }

  /// DSM range list entries (context attributes, length in blocks, SLBA).
  func ranges(_ harness: H, _ list: [(slba: UInt64, blocks: UInt32)], at page: Int = 40) {
    var bytes: [UInt8] = []
    for range in list {
      bytes += [0, 0, 0, 0]
      withUnsafeBytes(of: range.blocks.littleEndian) { bytes += $0 }
      withUnsafeBytes(of: range.slba.littleEndian) { bytes += $0 }
    }
    harness.memory.poke(H.page(page), bytes)
  }

  func dsm(count: Int, attributes: UInt32 = 1 << 2, nsid: UInt32 = 1) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: NVMOpcode.datasetManagement.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid,
      prp1: H.page(40), cdw10: UInt32(count - 1), cdw11: attributes)
  }

  @Test func deallocateZeroesEachRange() throws {
    let harness = try H.ready()
    let data = pattern(count: 32 * 512, seed: 5)
    #expect(harness.write(data, slba: 0) == .success)
    ranges(harness, [(0, 2), (10, 1), (20, 4)])
    #expect(harness.io(dsm(count: 3)) == .success)
    let discards = harness.recorders[0].operations(.discard)
    #expect(discards.map(\.offset) == [0, 10 * 512, 20 * 512])
    #expect(discards.map(\.length) == [1024, 512, 2048])
    let stored = harness.stored(offset: 0, count: 32 * 512)
    for block in 0..<32 {
      let range = block * 512..<(block + 1) * 512
      let cleared = block < 2 || block == 10 || (20..<24).contains(block)
      #expect(
        Array(stored[range]) == (cleared ? [UInt8](repeating: 0, count: 512) : Array(data[range])))
    }
  }

  @Test func deallocateOutOfRangeChangesNothing() throws {
    let harness = try H.ready()
    let data = pattern(count: 4 * 512, seed: 6)
    #expect(harness.write(data, slba: 0) == .success)
    ranges(harness, [(0, 2), (2040, 16)])
    #expect(harness.io(dsm(count: 2)) == .lbaOutOfRange)
    ranges(harness, [(0, 2), (UInt64.max, 2)])
    #expect(harness.io(dsm(count: 2)) == .lbaOutOfRange)
    #expect(harness.recorders[0].operations(.discard).isEmpty)
    #expect(harness.stored(offset: 0, count: 4 * 512) == data)
  }

  @Test func datasetManagementWithoutDeallocateIsAHint() throws {
    let harness = try H.ready()
    let data = pattern(count: 4 * 512, seed: 7)
    #expect(harness.write(data, slba: 0) == .success)
    ranges(harness, [(0, 4)])
    #expect(harness.io(dsm(count: 1, attributes: 0b11)) == .success)  // IDR | IDW
    #expect(harness.recorders[0].operations(.discard).isEmpty)
    #expect(harness.stored(offset: 0, count: 4 * 512) == data)
  }

  @Test func compareMatchesOrFails() throws {
    let harness = try H.ready()
    let data = pattern(count: 1024, seed: 8)
    #expect(harness.write(data, slba: 6) == .success)
    harness.memory.poke(H.page(50), data)
    #expect(harness.io(H.rw(.compare, slba: 6, blocks: 2, prp1: H.page(50))) == .success)
    var changed = data
    changed[1023] ^= 0xFF
    harness.memory.poke(H.page(50), changed)
    let failed = harness.io(H.rw(.compare, slba: 6, blocks: 2, prp1: H.page(50)))
    #expect(failed == .compareFailure)
    #expect(failed?.sct == 2 && failed?.sc == 0x85 && failed?.dnr == true)
    #expect(harness.stored(offset: 6 * 512, count: 1024) == data)
  }

  @Test func verifyChecksTheRangeOnly() throws {
    let harness = try H.ready()
    #expect(harness.io(H.rw(.verify, slba: 0, blocks: 1024)) == .success)
    #expect(harness.io(H.rw(.verify, slba: 2047, blocks: 2)) == .lbaOutOfRange)
    #expect(harness.io(H.rw(.verify, slba: 0, blocks: 1025)) == .invalidField)
  }

  @Test(arguments: [NVMOpcode.read, .write, .compare, .verify, .writeZeroes])
  func lbaOutOfRange(opcode: NVMOpcode) throws {
    let harness = try H.ready()
    let cases: [(UInt64, Int)] = [
      (2047, 2), (2048, 1), (UInt64.max, 1), (UInt64.max - 1, 4), (1 << 63, 1),
    ]
    for (slba, blocks) in cases {
      let status = harness.io(H.rw(opcode, slba: slba, blocks: blocks, prp1: H.page(16)))
      #expect(status == .lbaOutOfRange, "\(opcode) slba \(slba) nlb \(blocks)")
      #expect(status?.sct == 0 && status?.sc == 0x80)
    }
    #expect(harness.io(H.rw(opcode, slba: 2047, blocks: 1, prp1: H.page(16))) == .success)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
  }

  @Test func transfersAreBoundedByMDTS() throws {
    let harness = try H.ready()
    let (prp1, prp2) = harness.prps(H.page(16), length: 1024 * 512)
    #expect(harness.io(H.rw(.write, slba: 0, blocks: 1024, prp1: prp1, prp2: prp2)) == .success)
    for opcode in [NVMOpcode.read, .write, .compare] {
      let status = harness.io(H.rw(opcode, slba: 0, blocks: 1025, prp1: prp1, prp2: prp2))
      #expect(status == .invalidField, "\(opcode)")
    }
  }

  @Test(arguments: [UInt32(0), 2, 0xFFFF_FFFE, 0xFFFF_FFFF])
  func commandsNeedAnActiveNamespace(nsid: UInt32) throws {
    let harness = try H.ready()
    for opcode in [NVMOpcode.read, .write, .compare, .verify, .writeZeroes] {
      let status = harness.io(H.rw(opcode, nsid: nsid, slba: 0, blocks: 1, prp1: H.page(16)))
      #expect(status == .invalidNamespaceOrFormat, "\(opcode)")
    }
    ranges(harness, [(0, 1)])
    #expect(harness.io(dsm(count: 1, nsid: nsid)) == .invalidNamespaceOrFormat)
  }

  @Test func readOnlyNamespaceRefusesEveryWrite() throws {
    let harness = try H.ready(readOnly: [1])
    harness.backends[0].bytes.copyBytes(from: pattern(count: 4096, seed: 9))
    let protected = harness.io(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16)))
    #expect(protected == .namespaceWriteProtected)
    #expect(protected?.sct == 0 && protected?.sc == 0x20)
    #expect(harness.io(H.rw(.writeZeroes, slba: 0, blocks: 1)) == .namespaceWriteProtected)
    ranges(harness, [(0, 1)])
    #expect(harness.io(dsm(count: 1)) == .namespaceWriteProtected)
    #expect(harness.io(dsm(count: 1, attributes: 0)) == .success)
    #expect(harness.recorders[0].records.allSatisfy { $0.operation == .read })
    let (status, read) = harness.read(slba: 0, blocks: 8)
    #expect(status == .success)
    #expect(read == pattern(count: 4096, seed: 9))
    harness.memory.poke(H.page(50), Array(pattern(count: 4096, seed: 9)[0..<512]))
    #expect(harness.io(H.rw(.compare, slba: 0, blocks: 1, prp1: H.page(50))) == .success)
  }

  @Test(arguments: [UInt8(0x03), 0x04, 0x06, 0x0D, 0x0E, 0x11, 0x15, 0x7F, 0x80, 0xFF])
  func unknownIOOpcodeIsInvalidOpcode(opcode: UInt8) throws {
    let harness = try H.ready()
    let sqe = SubmissionQueueEntry(opcode: opcode, commandIdentifier: 0, namespaceIdentifier: 1)
    #expect(harness.io(sqe) == .invalidOpcode)
  }

  @Test(arguments: [UInt8(1), 2, 3])
  func fusedIOCommandsAreRefused(fuse: UInt8) throws {
    let harness = try H.ready()
    harness.memory.poke(H.page(16), pattern(count: 512, seed: 1))
    var sqe = H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16))
    sqe.flags = fuse
    #expect(harness.io(sqe) == .invalidField)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
  }

  @Test func reservedPSDTIsInvalidField() throws {
    let harness = try H.ready()
    var sqe = H.rw(.read, slba: 0, blocks: 1, prp1: H.page(16))
    sqe.flags = 0xC0
    #expect(harness.io(sqe) == .invalidField)
  }

  @Test func namespaceOf4096ByteBlocks() throws {
    let harness = try H.ready(blockSize: 4096)
    let data = pattern(count: 8192, seed: 10)
    #expect(harness.write(data, slba: 5, blockSize: 4096) == .success)
    #expect(harness.stored(offset: 5 * 4096, count: 8192) == data)
    #expect(harness.read(slba: 5, blocks: 2, blockSize: 4096).1 == data)
    #expect(harness.io(H.rw(.read, slba: 255, blocks: 2, prp1: H.page(16))) == .lbaOutOfRange)
    // MDTS is 128 blocks of 4 KiB here.
    #expect(harness.io(H.rw(.verify, slba: 0, blocks: 129)) == .invalidField)
  }

  @Test func namespacesAreIndependent() throws {
    let harness = try H.ready(namespaceSizes: [1 << 20, 2 << 20])
    let one = pattern(count: 1024, seed: 11)
    let two = pattern(count: 1024, seed: 12)
    #expect(harness.write(one, nsid: 1, slba: 0) == .success)
    #expect(harness.write(two, nsid: 2, slba: 0) == .success)
    #expect(harness.read(nsid: 1, slba: 0, blocks: 2).1 == one)
    #expect(harness.read(nsid: 2, slba: 0, blocks: 2).1 == two)
    #expect(
      harness.io(H.rw(.read, nsid: 1, slba: 2048, blocks: 1, prp1: H.page(16))) == .lbaOutOfRange)
    #expect(harness.io(H.rw(.read, nsid: 2, slba: 2048, blocks: 1, prp1: H.page(16))) == .success)
    let zeroes = SubmissionQueueEntry(
      opcode: NVMOpcode.writeZeroes.rawValue, commandIdentifier: 0, namespaceIdentifier: 2, cdw12: 1
    )
    #expect(harness.io(zeroes) == .success)
    #expect(harness.read(nsid: 1, slba: 0, blocks: 2).1 == one)
  }

  @Test func backendErrorsMapToMediaStatuses() throws {
    let harness = try H.ready()
    harness.recorders[0].injectedErrno = EIO
    let read = harness.io(H.rw(.read, slba: 0, blocks: 1, prp1: H.page(16)))
    #expect(read == .unrecoveredReadError)
    #expect(read?.sct == 2 && read?.sc == 0x81)
    let write = harness.io(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16)))
    #expect(write == .writeFault)
    #expect(write?.sct == 2 && write?.sc == 0x80)
    // A Flush that fails could not commit earlier writes: Write Fault too.
    let flush = SubmissionQueueEntry(
      opcode: NVMOpcode.flush.rawValue, commandIdentifier: 0, namespaceIdentifier: 1)
    #expect(harness.io(flush) == .writeFault)
    harness.recorders[0].injectedErrno = ENOSPC
    #expect(harness.io(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16))) == .capacityExceeded)
    harness.recorders[0].injectedErrno = EDQUOT
    #expect(harness.io(H.rw(.write, slba: 0, blocks: 1, prp1: H.page(16))) == .capacityExceeded)
    harness.recorders[0].injectedErrno = EINVAL
    #expect(harness.io(H.rw(.read, slba: 0, blocks: 1, prp1: H.page(16))) == .internalError)
    harness.recorders[0].injectedErrno = 0
    let (_, smart) = harness.getLogPage(0x02, bytes: 512)
    #expect(field(smart, 160, as: UInt64.self) == 3)  // media errors
    #expect(field(smart, 64, as: UInt64.self) == 0)  // failed reads are not counted
    #expect(harness.controller.commandsInFlight == 0)
    #expect(harness.read(slba: 0, blocks: 1).0 == .success)
  }
}
