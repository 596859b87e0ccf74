import BlockIO
import Testing

@testable import NVMe

/// Identify over the admin queue: every CNS the controller answers, and the
/// statuses for the ones it must refuse.
@Suite struct ControllerIdentifyTests {
  func enabled(
    namespaceIDs: [UInt32]? = nil, sizes: [UInt64] = [1 << 20], readOnly: Set<Int> = [],
    settings: ControllerSettings = ControllerSettings(ioQueues: 4, maxQueueEntries: 256)
  ) throws -> ControllerHarness {
    let harness = try ControllerHarness(
      namespaceSizes: sizes, readOnly: readOnly, settings: settings, namespaceIDs: namespaceIDs)
    harness.enable()
    return harness
  }

  func ascii(_ page: [UInt8], _ offset: Int, _ length: Int) -> String {
    String(decoding: page[offset..<(offset + length)], as: UTF8.self)
  }

  @Test func namespaceDataDescribesTheActiveNamespace() throws {
    let harness = try enabled()
    let (status, page) = harness.identify(cns: 0, nsid: 1)
    #expect(status == .success)
    #expect(field(page, 0, as: UInt64.self) == 2048)  // NSZE: 1 MiB of 512 B
    #expect(field(page, 8, as: UInt64.self) == 2048)  // NCAP
    #expect(field(page, 16, as: UInt64.self) == 2048)  // NUSE (not thin)
    #expect(page[25] == 1)  // NLBAF: two formats, 0-based
    #expect(page[26] == 0)  // FLBAS: format 0
    #expect(page[99] == 0)  // NSATTR: writable
    #expect(field(page, 128, as: UInt32.self) == 0x0109_0000)  // 512 B, RP 1
    #expect(field(page, 132, as: UInt32.self) == 0x000C_0000)  // 4096 B, RP 0
    #expect(field(page, 136, as: UInt32.self) == 0)  // no third format
    let ns = try #require(harness.controller.namespace(1))
    #expect(Array(page[104..<120]) == ns.nguid)
    #expect(Array(page[120..<128]) == ns.eui64)
    #expect(ns.nguid.contains { $0 != 0 } && ns.eui64.contains { $0 != 0 })
  }

  @Test func namespaceDataOfA4096ByteFormat() throws {
    let harness = try ControllerHarness(blockSize: 4096)
    harness.enable()
    let (status, page) = harness.identify(cns: 0, nsid: 1)
    #expect(status == .success)
    #expect(field(page, 0, as: UInt64.self) == 256)
    #expect(page[26] == 1)
  }

  @Test func readOnlyNamespaceIsReportedWriteProtected() throws {
    let harness = try enabled(readOnly: [1])
    let (status, page) = harness.identify(cns: 0, nsid: 1)
    #expect(status == .success)
    #expect(page[99] & 1 == 1)  // NSATTR bit 0
    let (independentStatus, independent) = harness.identify(cns: 8, nsid: 1)
    #expect(independentStatus == .success)
    #expect(independent[8] & 1 == 1)
  }

  @Test func inactiveValidNamespaceReadsAsZeroes() throws {
    let harness = try enabled(namespaceIDs: [1, 3], sizes: [1 << 20, 1 << 20])
    for cns: UInt8 in [0, 5, 8] {
      let (status, page) = harness.identify(cns: cns, nsid: 2)
      #expect(status == .success, "CNS \(cns)")
      #expect(page.allSatisfy { $0 == 0 }, "CNS \(cns)")
    }
  }

  @Test(arguments: [UInt32(0), 33, 0xFFFF_FFFE, 0xFFFF_FFFF])
  func namespaceDataRefusesInvalidNSIDs(nsid: UInt32) throws {
    let harness = try enabled(namespaceIDs: [1, 3], sizes: [1 << 20, 1 << 20])
    for cns: UInt8 in [0, 5, 8] {
      let (status, page) = harness.identify(cns: cns, nsid: nsid)
      #expect(status == .invalidNamespaceOrFormat, "CNS \(cns)")
      #expect(page.allSatisfy { $0 == 0xCC }, "nothing transferred")
    }
  }

  @Test func controllerDataFields() throws {
    let harness = try enabled(sizes: [1 << 20, 2 << 20])
    let (status, page) = harness.identify(cns: 1)
    #expect(status == .success)
    #expect(field(page, 0, as: UInt16.self) == 0x4E56)
    #expect(ascii(page, 4, 20) == "NVMEVFU0001" + String(repeating: " ", count: 9))
    #expect(ascii(page, 24, 40) == "nvme-vfu" + String(repeating: " ", count: 32))
    #expect(ascii(page, 64, 8) == "1.0     ")
    #expect(page[77] == 7)  // MDTS: 512 KiB
    #expect(field(page, 80, as: UInt32.self) == 0x0002_0000)
    #expect(field(page, 92, as: UInt32.self) == 1 << 8)  // OAES: namespace attribute notices
    #expect(page[111] == 1)  // I/O controller
    // OACS: Format, Device Self-test, Doorbell Buffer Config.
    #expect(field(page, 256, as: UInt16.self) == 1 << 1 | 1 << 4 | 1 << 8)
    #expect(page[258] == 3)  // ACL
    #expect(page[259] == 3)  // AERL: 4 outstanding
    #expect(page[260] == 0b11)  // FRMW: 1 slot, read-only
    #expect(page[261] & 0b110 == 0b110)  // LPA: effects log, extended data
    #expect(page[262] == 63)  // ELPE
    #expect(page[263] == 0)  // NPSS
    #expect(field(page, 266, as: UInt16.self) == 343)
    #expect(field(page, 268, as: UInt16.self) == 373)
    #expect(field(page, 280, as: UInt64.self) == 3 << 20)  // TNVMCAP
    #expect(page[512] == 0x66 && page[513] == 0x44)  // SQES, CQES
    #expect(field(page, 514, as: UInt16.self) == 256)  // MAXCMD
    #expect(field(page, 516, as: UInt32.self) == 32)  // NN: maxNamespaces
    // ONCS: Compare, DSM, Write Zeroes, Save/Select, Timestamp, Verify, Copy.
    #expect(field(page, 520, as: UInt16.self) == 0b1_1101_1101)
    #expect(field(page, 534, as: UInt16.self) == 1)  // OCFS: Copy format 0
    #expect(field(page, 522, as: UInt16.self) == 0)  // no fused operations
    #expect(page[525] == 0b111)  // VWC present, flush broadcast supported
    // SGLS: supported, byte aligned, bit bucket, SGL longer than data (bit 18).
    #expect(field(page, 536, as: UInt32.self) == 0x0005_0001)
    #expect(ascii(page, 768, 35) == "nqn.2026-11.io.nvme-vfu:NVMEVFU0001")
    #expect(page[803] == 0)
    #expect(field(page, 2048, as: UInt16.self) != 0)  // PS0 max power
  }

  @Test func controllerWithoutSGLsReportsNone() throws {
    let harness = try enabled(settings: ControllerSettings(sglSupported: false))
    let (status, page) = harness.identify(cns: 1)
    #expect(status == .success)
    #expect(field(page, 536, as: UInt32.self) == 0)
  }

  @Test func activeNamespaceListHonoursTheStartingNSID() throws {
    let harness = try enabled(namespaceIDs: [1, 3, 7], sizes: [1 << 20, 1 << 20, 1 << 20])
    for cns: UInt8 in [2, 7] {
      var (status, page) = harness.identify(cns: cns, nsid: 0)
      #expect(status == .success)
      #expect((0..<4).map { field(page, $0 * 4, as: UInt32.self) } == [1, 3, 7, 0])
      (status, page) = harness.identify(cns: cns, nsid: 3)
      #expect(status == .success)
      #expect((0..<2).map { field(page, $0 * 4, as: UInt32.self) } == [7, 0])
      (status, page) = harness.identify(cns: cns, nsid: 7)
      #expect(status == .success)
      #expect(page.allSatisfy { $0 == 0 })
      #expect(harness.identify(cns: cns, nsid: 0xFFFF_FFFE).0 == .invalidNamespaceOrFormat)
      #expect(harness.identify(cns: cns, nsid: 0xFFFF_FFFF).0 == .invalidNamespaceOrFormat)
    }
  }

  @Test func descriptorListCarriesEveryIdentifier() throws {
    let harness = try enabled()
    let (status, page) = harness.identify(cns: 3, nsid: 1)
    #expect(status == .success)
    let ns = try #require(harness.controller.namespace(1))
    #expect(Array(page[0..<4]) == [1, 8, 0, 0])  // EUI-64
    #expect(Array(page[4..<12]) == ns.eui64)
    #expect(Array(page[12..<16]) == [2, 16, 0, 0])  // NGUID
    #expect(Array(page[16..<32]) == ns.nguid)
    #expect(Array(page[32..<36]) == [3, 16, 0, 0])  // UUID
    #expect(Array(page[36..<52]) == ns.uuid)
    #expect(page[42] >> 4 == 4)  // UUID version 4
    #expect(Array(page[52..<57]) == [4, 1, 0, 0, 0])  // CSI: NVM
    #expect(page[57...].allSatisfy { $0 == 0 })
    // Identifiers match Identify Namespace.
    let (_, namespacePage) = harness.identify(cns: 0, nsid: 1)
    #expect(Array(namespacePage[120..<128]) == ns.eui64)
  }

  @Test func descriptorListRefusesInactiveNSIDs() throws {
    let harness = try enabled(namespaceIDs: [1, 3], sizes: [1 << 20, 1 << 20])
    for nsid: UInt32 in [0, 2, 4, 0xFFFF_FFFF] {
      #expect(harness.identify(cns: 3, nsid: nsid).0 == .invalidNamespaceOrFormat)
    }
  }

  @Test func commandSetSpecificStructuresNeedTheNVMCommandSet() throws {
    let harness = try enabled()
    var (status, page) = harness.identify(cns: 5, nsid: 1)
    #expect(status == .success)
    #expect(page.allSatisfy { $0 == 0 })  // no PI, no storage tags
    (status, page) = harness.identify(cns: 6)
    #expect(status == .success)
    #expect(page[0] == 7)  // VSL = MDTS
    #expect(page[1...].allSatisfy { $0 == 0 })
    for csi: UInt8 in [1, 2, 0xFF] {
      for cns: UInt8 in [5, 6, 7] {
        let (refused, untouched) = harness.identify(cns: cns, nsid: 1, csi: csi)
        #expect(refused == .invalidField, "CNS \(cns) CSI \(csi)")
        #expect(untouched.allSatisfy { $0 == 0xCC })
      }
    }
  }

  @Test func independentNamespaceDataReportsReady() throws {
    let harness = try enabled()
    let (status, page) = harness.identify(cns: 8, nsid: 1)
    #expect(status == .success)
    #expect(page[14] == 1)  // NSTAT: ready
    #expect(page[12] == 0 && page[13] == 0)  // ENDGID
    #expect(page[8] == 0)  // NSATTR: writable
  }

  @Test func commandSetCombinationsListOnlyNVM() throws {
    let harness = try enabled()
    let (status, page) = harness.identify(cns: 0x1C)
    #expect(status == .success)
    #expect(field(page, 0, as: UInt64.self) == 1)
    #expect(page[8...].allSatisfy { $0 == 0 })
  }

  @Test(arguments: [UInt8(0x04), 0x09, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x1F, 0xFF])
  func unknownCNSIsInvalidField(cns: UInt8) throws {
    let harness = try enabled()
    let (status, page) = harness.identify(cns: cns, nsid: 1)
    #expect(status == .invalidField)
    #expect(page.allSatisfy { $0 == 0xCC })
  }

  @Test func adminCommandsRefuseSGLs() throws {
    let harness = try enabled()
    let descriptor = SGLDescriptor(
      address: ControllerHarness.dataBase, length: 4096, type: .dataBlock)
    for psdt: UInt8 in [0x40, 0x80, 0xC0] {
      var sqe = SubmissionQueueEntry(
        opcode: AdminOpcode.identify.rawValue, flags: psdt, commandIdentifier: 0, cdw10: 1)
      sqe.sglDescriptor = descriptor
      #expect(harness.status(sqe) == .invalidField, "PSDT \(psdt >> 6)")
    }
  }

  @Test func dataPointerOutsideGuestMemoryIsDataTransferError() throws {
    let harness = try enabled()
    let entry = harness.admin(.identify, prp1: 0x9000_0000, cdw10: 1)
    #expect(entry?.status == .dataTransferError)
    // The second page unmapped: the first half may land, the status still fails.
    let split = harness.admin(
      .identify, prp1: ControllerHarness.dataBase + 0x800, prp2: 0x9000_0000, cdw10: 1)
    #expect(split?.status == .dataTransferError)
    #expect(harness.controller.isReady)
  }

  @Test func identifyAcrossTwoPagesWithAnOffset() throws {
    let harness = try enabled()
    let (_, reference) = harness.identify(cns: 1)
    let prp1 = ControllerHarness.page(4) + 0x804
    let prp2 = ControllerHarness.page(9)
    harness.memory.poke(ControllerHarness.page(4), [UInt8](repeating: 0xCC, count: 4096))
    harness.memory.poke(prp2, [UInt8](repeating: 0xCC, count: 4096))
    let entry = harness.admin(.identify, prp1: prp1, prp2: prp2, cdw10: 1)
    #expect(entry?.status == .success)
    let first = 4096 - 0x804
    #expect(harness.memory.peek(prp1, first) == Array(reference[0..<first]))
    #expect(harness.memory.peek(prp2, 4096 - first) == Array(reference[first...]))
    #expect(harness.memory.peek(ControllerHarness.page(4), 0x804).allSatisfy { $0 == 0xCC })
    #expect(harness.memory.peek(prp2 + UInt64(4096 - first), first).allSatisfy { $0 == 0xCC })
    // An offset that is not dword aligned is refused.
    let odd = harness.admin(.identify, prp1: ControllerHarness.dataBase + 2, cdw10: 1)
    #expect(odd?.status == .prpOffsetInvalid)
  }
}
