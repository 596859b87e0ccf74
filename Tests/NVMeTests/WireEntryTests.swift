import Testing

@testable import NVMe

@Suite("Wire: submission and completion queue entries")
struct WireEntryTests {
  @Test("SQE fields sit at the spec's byte offsets")
  func sqeFieldPositions() throws {
    let sqe = SubmissionQueueEntry(
      opcode: 0x02, flags: 0x41, commandIdentifier: 0xBEEF, namespaceIdentifier: 0x1122_3344,
      cdw2: 0x5555_6666, cdw3: 0x7777_8888, metadataPointer: 0x0102_0304_0506_0708,
      prp1: 0x1111_2222_3333_4444, prp2: 0xAAAA_BBBB_CCCC_DDDD,
      cdw10: 0x0A0A_0A0A, cdw11: 0x0B, cdw12: 0x0C, cdw13: 0x0D, cdw14: 0x0E, cdw15: 0x0F)
    let bytes = sqe.encode()
    #expect(bytes.count == 64)
    #expect(bytes[0] == 0x02)
    #expect(bytes[1] == 0x41)
    #expect(bytes[2] == 0xEF && bytes[3] == 0xBE)
    #expect(Array(bytes[4..<8]) == [0x44, 0x33, 0x22, 0x11])
    #expect(DataPage.read(UInt64.self, from: bytes, at: 16) == 0x0102_0304_0506_0708)
    #expect(DataPage.read(UInt64.self, from: bytes, at: 24) == 0x1111_2222_3333_4444)
    #expect(DataPage.read(UInt64.self, from: bytes, at: 32) == 0xAAAA_BBBB_CCCC_DDDD)
    #expect(DataPage.read(UInt32.self, from: bytes, at: 40) == 0x0A0A_0A0A)
    #expect(DataPage.read(UInt32.self, from: bytes, at: 60) == 0x0F)
    #expect(sqe.cdw0 == 0xBEEF_4102)
  }

  @Test("SQE round trips through its wire image")
  func sqeRoundTrip() throws {
    var bytes = [UInt8](repeating: 0, count: 64)
    for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 7 &+ 3) }
    let sqe = try #require(SubmissionQueueEntry(bytes: bytes))
    #expect(sqe.encode() == bytes)
    #expect(SubmissionQueueEntry(bytes: Array(bytes.prefix(63))) == nil)
  }

  @Test("PSDT and FUSE accessors")
  func flagAccessors() throws {
    var sqe = SubmissionQueueEntry(opcode: 1, commandIdentifier: 1)
    #expect(sqe.dataPointerType == .prp)
    sqe.dataPointerType = .sglContiguousMetadata
    #expect(sqe.flags == 0x40)
    sqe.fusedOperation = .firstCommand
    #expect(sqe.flags == 0x41)
    #expect(sqe.dataPointerType.usesSGL)
    sqe.flags = 0x80
    #expect(sqe.dataPointerType == .sglMetadataSegment)
    sqe.flags = 0xC3
    #expect(sqe.dataPointerType == .reserved)
    #expect(sqe.fusedOperation == .reserved)
  }

  @Test("DPTR as an SGL descriptor: address in PRP1, length and identifier in PRP2")
  func sqeSGLDescriptor() throws {
    var sqe = SubmissionQueueEntry(opcode: 2, commandIdentifier: 9)
    sqe.sglDescriptor = SGLDescriptor(address: 0x1234_5000, length: 0x2000, type: .lastSegment)
    let bytes = sqe.encode()
    #expect(DataPage.read(UInt64.self, from: bytes, at: 24) == 0x1234_5000)
    #expect(DataPage.read(UInt32.self, from: bytes, at: 32) == 0x2000)
    #expect(bytes[39] == 0x30)
    let decoded = try #require(SubmissionQueueEntry(bytes: bytes))
    #expect(decoded.sglDescriptor.type == .lastSegment)
    #expect(decoded.sglDescriptor.length == 0x2000)
  }

  @Test("SGL descriptor wire layout")
  func sglDescriptorLayout() throws {
    let descriptor = SGLDescriptor(address: 0x0102_0304_0506_0708, length: 0x1000, type: .bitBucket)
    let bytes = descriptor.encode()
    #expect(bytes.count == 16)
    #expect(DataPage.read(UInt64.self, from: bytes, at: 0) == 0x0102_0304_0506_0708)
    #expect(DataPage.read(UInt32.self, from: bytes, at: 8) == 0x1000)
    #expect(bytes[15] == 0x10)
    let decoded = try #require(bytes.withUnsafeBytes { SGLDescriptor(bytes: $0) })
    #expect(decoded == descriptor)
    #expect(SGLDescriptor(address: 0, length: 0, identifier: 0x60).type == nil)
  }

  @Test("CQE fields: CID at 12, status at 14 with phase in bit 0")
  func cqeFieldPositions() throws {
    let cqe = CompletionQueueEntry(
      dw0: 0xDEAD_BEEF, dw1: 0x0102_0304, submissionQueueHead: 0x0011,
      submissionQueueIdentifier: 0x0003, commandIdentifier: 0xABCD,
      status: .lbaOutOfRange, phase: true)
    let bytes = cqe.encode()
    #expect(bytes.count == 16)
    #expect(DataPage.read(UInt32.self, from: bytes, at: 0) == 0xDEAD_BEEF)
    #expect(DataPage.read(UInt32.self, from: bytes, at: 4) == 0x0102_0304)
    #expect(DataPage.read(UInt16.self, from: bytes, at: 8) == 0x0011)
    #expect(DataPage.read(UInt16.self, from: bytes, at: 10) == 0x0003)
    #expect(DataPage.read(UInt16.self, from: bytes, at: 12) == 0xABCD)
    let status = try #require(DataPage.read(UInt16.self, from: bytes, at: 14))
    #expect(status & 1 == 1)
    #expect(status >> 1 == 0x4080)  // DNR | SCT 0 | SC 0x80
    #expect(cqe.dword3 == 0x8101_ABCD)
  }

  @Test("CQE round trips, including phase 0 and More/CRD")
  func cqeRoundTrip() throws {
    var status = NVMeStatus.writeFault.withMore()
    status.crd = 2
    let cqe = CompletionQueueEntry(
      submissionQueueHead: 7, submissionQueueIdentifier: 1, commandIdentifier: 42,
      status: status, phase: false)
    let decoded = try #require(CompletionQueueEntry(bytes: cqe.encode()))
    #expect(decoded == cqe)
    #expect(decoded.status.more && decoded.status.crd == 2)
  }

  @Test("encodeLeading leaves DW3 untouched so the phase dword can go last")
  func cqeLeadingOnly() throws {
    let cqe = CompletionQueueEntry(
      dw0: 1, submissionQueueHead: 2, submissionQueueIdentifier: 3, commandIdentifier: 4,
      phase: true)
    var bytes = [UInt8](repeating: 0xEE, count: 16)
    bytes.withUnsafeMutableBytes { cqe.encodeLeading(into: $0) }
    #expect(Array(bytes[12..<16]) == [0xEE, 0xEE, 0xEE, 0xEE])
    #expect(bytes[0] == 1 && bytes[8] == 2 && bytes[10] == 3)
  }

  @Test("Opcode directions follow bits 1:0")
  func opcodeDirections() {
    #expect(NVMOpcode.write.transferDirection == .hostToController)
    #expect(NVMOpcode.read.transferDirection == .controllerToHost)
    #expect(NVMOpcode.flush.transferDirection == .none)
    #expect(AdminOpcode.identify.transferDirection == .controllerToHost)
    #expect(AdminOpcode.getLogPage.transferDirection == .controllerToHost)
    #expect(AdminOpcode.doorbellBufferConfig.rawValue == 0x7C)
    #expect(AdminOpcode.formatNVM.rawValue == 0x80)
    #expect(NVMOpcode.copy.rawValue == 0x19)
    #expect(NVMOpcode.verify.rawValue == 0x0C)
  }
}
