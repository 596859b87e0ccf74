import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// Format NVM: LBA format switches, secure erase, refusals, and the
/// namespace attribute notice it raises.
@Suite struct ControllerFormatTests {
  func format(_ harness: ControllerHarness, nsid: UInt32 = 1, cdw10: UInt32) -> NVMeStatus? {
    harness.admin(.formatNVM, nsid: nsid, cdw10: cdw10)?.status
  }

  @Test func switchingTo4096AndBackKeepsTheData() throws {
    let harness = try ControllerHarness.ready()
    let data = pattern(count: 4096, seed: 3)
    #expect(harness.write(data, slba: 8) == .success)  // bytes 4096..8191

    #expect(format(harness, cdw10: 1) == .success)
    var (status, page) = harness.identify(cns: 0, nsid: 1)
    #expect(status == .success)
    #expect(page[26] == 1)  // FLBAS
    #expect(field(page, 0, as: UInt64.self) == 256)  // NSZE in 4 KiB blocks
    // LBA 1 of 4 KiB is where the eight 512-byte blocks were.
    let (readStatus, read) = harness.read(slba: 1, blocks: 1, blockSize: 4096)
    #expect(readStatus == .success)
    #expect(read == data)
    #expect(harness.read(slba: 256, blocks: 1, blockSize: 4096).0 == .lbaOutOfRange)

    #expect(format(harness, cdw10: 0) == .success)
    (status, page) = harness.identify(cns: 0, nsid: 1)
    #expect(page[26] == 0)
    #expect(field(page, 0, as: UInt64.self) == 2048)
    #expect(harness.read(slba: 8, blocks: 8).1 == data)
  }

  @Test func secureEraseZeroesTheNamespace() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [1 << 20, 1 << 20])
    let data = pattern(count: 2048, seed: 4)
    #expect(harness.write(data, slba: 0) == .success)
    #expect(harness.write(data, nsid: 2, slba: 0) == .success)
    #expect(format(harness, cdw10: 1 << 9) == .success)
    #expect(harness.read(slba: 0, blocks: 4).1 == [UInt8](repeating: 0, count: 2048))
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
    #expect(harness.recorders[0].operations(.discard).map(\.length) == [1 << 20])
    // The other namespace is untouched.
    #expect(harness.read(nsid: 2, slba: 0, blocks: 4).1 == data)
  }

  @Test func broadcastFormatsEveryNamespace() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [1 << 20, 1 << 20])
    #expect(format(harness, nsid: 0xFFFF_FFFF, cdw10: 1) == .success)
    for nsid: UInt32 in [1, 2] {
      #expect(harness.identify(cns: 0, nsid: nsid).1[26] == 1)
    }
  }

  @Test func refusals() throws {
    let harness = try ControllerHarness.ready()
    #expect(format(harness, cdw10: 2) == .invalidFormat)  // only formats 0 and 1
    #expect(format(harness, cdw10: 1 << 12) == .invalidFormat)  // LBAFU: format 16
    #expect(format(harness, cdw10: 1 << 5) == .invalidFormat)  // PI type 1
    #expect(format(harness, cdw10: 3 << 5 | 1) == .invalidFormat)
    #expect(format(harness, cdw10: 2 << 9) == .invalidField)  // cryptographic erase
    #expect(format(harness, nsid: 0, cdw10: 0) == .invalidNamespaceOrFormat)
    #expect(format(harness, nsid: 2, cdw10: 0) == .invalidNamespaceOrFormat)
    #expect(NVMeStatus.invalidFormat.sct == 1 && NVMeStatus.invalidFormat.sc == 0x0A)
    // Nothing changed.
    #expect(harness.identify(cns: 0, nsid: 1).1[26] == 0)
    #expect(harness.controller.changedNamespaces.changed.isEmpty)
  }

  @Test func formatMustDivideTheCapacity() throws {
    // 1 MiB + 512 B holds whole 512-byte blocks but not whole 4 KiB ones.
    let harness = try ControllerHarness.ready(namespaceSizes: [(1 << 20) + 512])
    #expect(format(harness, cdw10: 1) == .invalidFormat)
    #expect(field(harness.identify(cns: 0, nsid: 1).1, 0, as: UInt64.self) == 2049)
  }

  @Test func readOnlyNamespaceCannotBeFormatted() throws {
    let harness = try ControllerHarness.ready(readOnly: [1])
    #expect(format(harness, cdw10: 1) == .namespaceWriteProtected)
    #expect(format(harness, cdw10: 1 << 9) == .namespaceWriteProtected)
    #expect(harness.identify(cns: 0, nsid: 1).1[26] == 0)
  }

  @Test func formatRaisesNamespaceAttributeChangedWhenEnabled() throws {
    let harness = try ControllerHarness.ready()
    let cids = harness.parkAERs(1)
    #expect(format(harness, cdw10: 1) == .success)
    #expect(harness.takeEvents().isEmpty)  // AEC bit 8 off
    #expect(harness.setFeature(0x0B, cdw11: 1 << 8)?.status == .success)
    #expect(format(harness, cdw10: 1 << 9) == .success)
    let events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == cids)
    #expect(events.first?.dw0 == 0x0004_0002)  // notice, attribute changed, log 04h
    #expect(events.first?.status == .success)
    let (_, list) = harness.getLogPage(0x04, bytes: 8)
    #expect(field(list, 0, as: UInt32.self) == 1)
    #expect(field(list, 4, as: UInt32.self) == 0)
  }
}
