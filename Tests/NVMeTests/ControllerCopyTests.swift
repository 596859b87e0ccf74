import BackendContract
import Glibc
import TestSupport
import Testing

@testable import NVMe

/// Copy (19h): what it moves, what it refuses, and what Identify says.
@Suite struct ControllerCopyTests {
  typealias H = ControllerHarness

  /// Format 0 entries at page 40: (SLBA, blocks).
  static func ranges(_ harness: H, _ list: [(slba: UInt64, blocks: Int)], page: Int = 40) {
    var bytes: [UInt8] = []
    for range in list {
      bytes += [UInt8](repeating: 0, count: 8)
      withUnsafeBytes(of: range.slba.littleEndian) { bytes += $0 }
      withUnsafeBytes(of: UInt16(truncatingIfNeeded: range.blocks - 1).littleEndian) { bytes += $0 }
      bytes += [UInt8](repeating: 0xA5, count: 14)  // PI fields we ignore
    }
    harness.memory.poke(H.page(page), bytes)
  }

  static func copy(
    to sdlba: UInt64, count: Int, format: UInt32 = 0, flags: UInt32 = 0, nsid: UInt32 = 1,
    prp1: UInt64 = H.page(40)
  ) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: NVMOpcode.copy.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid, prp1: prp1,
      cdw10: UInt32(truncatingIfNeeded: sdlba), cdw11: UInt32(truncatingIfNeeded: sdlba >> 32),
      cdw12: UInt32(count - 1) | format << 8 | flags)
  }

  /// An 8 MiB namespace (16384 blocks) with a pattern over its first MiB.
  static func seeded(readOnly: Set<Int> = []) throws -> (H, [UInt8]) {
    let harness = try H.ready(namespaceSizes: [8 << 20], readOnly: readOnly)
    let data = pattern(count: 1 << 20, seed: 41)
    data.withUnsafeBytes { harness.backends[0].bytes.copyMemory(from: $0) }
    return (harness, data)
  }

  static func copies(_ harness: H) -> [TestBackend.Record] {
    harness.recorders[0].records.filter {
      if case .copy = $0.operation { true } else { false }
    }
  }

  @Test func rangesLandBackToBackFromTheDestination() throws {
    let (harness, data) = try Self.seeded()
    Self.ranges(harness, [(100, 2), (5, 1), (300, 3)])
    #expect(harness.io(Self.copy(to: 4000, count: 3)) == .success)
    let expected =
      Array(data[(100 * 512)..<(102 * 512)]) + Array(data[(5 * 512)..<(6 * 512)])
      + Array(data[(300 * 512)..<(303 * 512)])
    #expect(harness.stored(offset: 4000 * 512, count: 6 * 512) == expected)
    #expect(harness.stored(offset: 1 << 20, count: 4000 * 512 - (1 << 20)).allSatisfy { $0 == 0 })
    #expect(harness.stored(offset: 4006 * 512, count: 512).allSatisfy { $0 == 0 })
    #expect(harness.stored(offset: 0, count: 1 << 20) == data)  // sources unchanged
    let parts = Self.copies(harness)
    #expect(parts.map(\.operation) == [100, 5, 300].map { .copy(source: $0 * 512) })
    #expect(parts.map(\.offset) == [4000, 4002, 4003].map { $0 * 512 })
    #expect(parts.map(\.length) == [1024, 512, 1536])
    #expect(parts.allSatisfy { !$0.forceUnitAccess })
    // The read path sees it too.
    let (status, read) = harness.read(slba: 4000, blocks: 6)
    #expect(status == .success)
    #expect(read == expected)
  }

  @Test func forceUnitAccessReachesEveryPart() throws {
    let (harness, data) = try Self.seeded()
    Self.ranges(harness, [(0, 8), (64, 8)])
    #expect(harness.io(Self.copy(to: 8000, count: 2, flags: 1 << 30)) == .success)
    #expect(Self.copies(harness).map(\.forceUnitAccess) == [true, true])
    #expect(
      harness.stored(offset: 8000 * 512, count: 16 * 512)
        == Array(data[0..<4096]) + Array(data[(64 * 512)..<(72 * 512)]))
  }

  /// A destination overlapping its source: as if the source were read first.
  @Test func overlappingDestination() throws {
    let (harness, data) = try Self.seeded()
    Self.ranges(harness, [(10, 16)])
    #expect(harness.io(Self.copy(to: 14, count: 1)) == .success)
    #expect(
      harness.stored(offset: 14 * 512, count: 16 * 512) == Array(data[(10 * 512)..<(26 * 512)]))
  }

  @Test func theSpecsStatusesChangeNothing() throws {
    let (harness, data) = try Self.seeded()
    let limit = (4 << 20) >> 9  // MSSRL = MCL = 8192 blocks of 512
    // Format 1 (64-bit guard) and reserved formats.
    Self.ranges(harness, [(0, 1)])
    for format: UInt32 in [1, 2, 15] {
      #expect(harness.io(Self.copy(to: 9000, count: 1, format: format)) == .invalidField)
    }
    // More than MSRC + 1 = 128 ranges.
    Self.ranges(harness, Array(repeating: (0, 1), count: 129))
    #expect(harness.io(Self.copy(to: 9000, count: 129)) == .commandSizeLimitExceeded)
    // One range beyond MSSRL; a total beyond MCL.
    Self.ranges(harness, [(0, limit + 1)])
    #expect(harness.io(Self.copy(to: 9000, count: 1)) == .commandSizeLimitExceeded)
    Self.ranges(harness, [(0, limit / 2), (0, limit / 2), (0, 1)])
    #expect(harness.io(Self.copy(to: 9000, count: 3)) == .commandSizeLimitExceeded)
    // Sources and destination past the end (16384 blocks), and wrapping.
    Self.ranges(harness, [(0, 1), (16380, 5)])
    #expect(harness.io(Self.copy(to: 9000, count: 2)) == .lbaOutOfRange)
    Self.ranges(harness, [(UInt64.max, 2)])
    #expect(harness.io(Self.copy(to: 9000, count: 1)) == .lbaOutOfRange)
    Self.ranges(harness, [(0, 4)])
    #expect(harness.io(Self.copy(to: 16381, count: 1)) == .lbaOutOfRange)
    #expect(harness.io(Self.copy(to: UInt64.max - 1, count: 1)) == .lbaOutOfRange)
    #expect(harness.io(Self.copy(to: 0, count: 1, nsid: 2)) == .invalidNamespaceOrFormat)
    #expect(Self.copies(harness).isEmpty)
    #expect(harness.stored(offset: 0, count: 1 << 20) == data)
    #expect(harness.stored(offset: 1 << 20, count: 7 << 20).allSatisfy { $0 == 0 })
    // Exactly at the limits is fine.
    Self.ranges(harness, [(0, limit / 2), (0, limit / 2)])
    #expect(harness.io(Self.copy(to: 16384 - UInt64(limit), count: 2)) == .success)
    Self.ranges(harness, Array(repeating: (7, 1), count: 128))
    #expect(harness.io(Self.copy(to: 0, count: 128)) == .success)
    #expect(harness.stored(offset: 127 * 512, count: 512) == Array(data[(7 * 512)..<(8 * 512)]))
  }

  @Test func readOnlyNamespaceIsWriteProtected() throws {
    let (harness, data) = try Self.seeded(readOnly: [1])
    Self.ranges(harness, [(0, 1)])
    #expect(harness.io(Self.copy(to: 100, count: 1)) == .namespaceWriteProtected)
    #expect(Self.copies(harness).isEmpty)
    #expect(harness.stored(offset: 0, count: 1 << 20) == data)
  }

  /// A range list outside guest memory fails the command, not the controller.
  @Test func hostileRangeListPointer() throws {
    let (harness, data) = try Self.seeded()
    for prp1: UInt64 in [0xFFFF_FFFF_FFFF_F000, 0x8000_0000_0000_0000] {
      let status = harness.io(Self.copy(to: 100, count: 128, prp1: prp1))
      #expect(status != nil && status != .success)
    }
    #expect(Self.copies(harness).isEmpty)
    Self.ranges(harness, [(3, 1)])
    #expect(harness.io(Self.copy(to: 100, count: 1)) == .success)
    #expect(harness.stored(offset: 100 * 512, count: 512) == Array(data[(3 * 512)..<(4 * 512)]))
  }

  @Test func identifyAndEffectsAdvertiseCopy() throws {
    let harness = try H.ready(namespaceSizes: [8 << 20])
    let (status, controller) = harness.identify(cns: 1)
    #expect(status == .success)
    #expect(field(controller, 520, as: UInt16.self) & (1 << 8) != 0)  // ONCS Copy
    #expect(field(controller, 534, as: UInt16.self) == 1)  // OCFS: format 0 only
    var (_, namespace) = harness.identify(cns: 0, nsid: 1)
    #expect(field(namespace, 74, as: UInt16.self) == 8192)  // MSSRL
    #expect(field(namespace, 76, as: UInt32.self) == 8192)  // MCL
    #expect(namespace[80] == 127)  // MSRC, 0's based
    let format = harness.admin(.formatNVM, nsid: 1, cdw10: 1)
    #expect(format?.status == .success)
    (_, namespace) = harness.identify(cns: 0, nsid: 1)
    #expect(field(namespace, 74, as: UInt16.self) == 1024)  // 4 MiB of 4 KiB blocks
    #expect(field(namespace, 76, as: UInt32.self) == 1024)
    let (logStatus, log) = harness.getLogPage(0x05, bytes: 4096)
    #expect(logStatus == .success)
    #expect(field(log, 1024 + 0x19 * 4, as: UInt32.self) == 0b11)  // CSUPP | LBCC
  }
}
