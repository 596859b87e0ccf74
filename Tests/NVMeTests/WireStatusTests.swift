import Testing

@testable import NVMe

@Suite("Wire: status codes")
struct WireStatusTests {
  @Test("Known SCT/SC values")
  func knownValues() {
    #expect(NVMeStatus.success.encoded == 0)
    #expect(NVMeStatus.lbaOutOfRange.sct == 0 && NVMeStatus.lbaOutOfRange.sc == 0x80)
    #expect(NVMeStatus.invalidField.sct == 0 && NVMeStatus.invalidField.sc == 0x02)
    #expect(NVMeStatus.invalidQueueIdentifier.sct == 1)
    #expect(NVMeStatus.invalidQueueIdentifier.sc == 0x01)
    #expect(NVMeStatus.writeFault.sct == 2 && NVMeStatus.writeFault.sc == 0x80)
    #expect(NVMeStatus.namespaceWriteProtected.sc == 0x20)
    #expect(NVMeStatus.sglOffsetInvalid.sc == 0x16)
    #expect(NVMeStatus.prpOffsetInvalid.sc == 0x13)
    #expect(NVMeStatus.transientTransportError.sc == 0x22)
    #expect(NVMeStatus.invalidInterruptVector.sc == 0x08)
    #expect(NVMeStatus.invalidQueueDeletion.sc == 0x0C)
    #expect(NVMeStatus.attemptedWriteToReadOnlyRange.sct == 1)
    #expect(NVMeStatus.attemptedWriteToReadOnlyRange.sc == 0x82)
    #expect(NVMeStatus.deallocatedOrUnwrittenLogicalBlock.sc == 0x87)
    #expect(NVMeStatus.compareFailure.sc == 0x85)
  }

  @Test("15-bit encoding: SC 7:0, SCT 10:8, CRD 12:11, More 13, DNR 14")
  func encoding() {
    #expect(NVMeStatus.invalidField.encoded == 0x4002)
    #expect(NVMeStatus.invalidQueueIdentifier.encoded == 0x4101)
    #expect(NVMeStatus.writeFault.encoded == 0x0280)
    #expect(NVMeStatus.writeFault.doNotRetry().encoded == 0x4280)
    #expect(NVMeStatus.invalidField.doNotRetry(false).encoded == 0x0002)
    #expect(NVMeStatus.dataTransferError.withMore().encoded == 0x2004)
    let crd = NVMeStatus(sct: 0, sc: 0x22, crd: 3)
    #expect(crd.encoded == 0x1822)
    for status in [NVMeStatus.lbaOutOfRange, .abortRequested, .accessDenied, crd] {
      #expect(NVMeStatus(encoded: status.encoded) == status)
    }
  }

  @Test("matches ignores DNR and More")
  func matching() {
    #expect(NVMeStatus.invalidField.doNotRetry(false).matches(.invalidField))
    #expect(!NVMeStatus.invalidField.matches(.invalidOpcode))
    #expect(NVMeStatus.success.isSuccess)
    #expect(!NVMeStatus.internalError.isSuccess)
  }
}
