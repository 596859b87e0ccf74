import NVMe
import Testing

/// Statuses as a person reads them: the specification's name and the code,
/// never the struct's fields.
@Suite struct StatusNameTests {
  @Test func genericStatusesByName() {
    #expect(NVMeStatus.invalidNamespaceOrFormat.description == "Invalid Namespace or Format (0x0B)")
    #expect(NVMeStatus.namespaceWriteProtected.description == "Namespace is Write Protected (0x20)")
    #expect(NVMeStatus.lbaOutOfRange.description == "LBA Out of Range (0x80)")
    #expect(NVMeStatus.invalidField.description == "Invalid Field in Command (0x02)")
    #expect(NVMeStatus.success.description == "Successful Completion (0x00)")
  }

  @Test func otherTypesNameTheirType() {
    #expect(
      NVMeStatus.invalidQueueIdentifier.description
        == "Invalid Queue Identifier (sct 1, sc 0x01)")
    #expect(
      NVMeStatus.unrecoveredReadError.description == "Unrecovered Read Error (sct 2, sc 0x81)")
  }

  @Test func unknownCodesFallBackToTheNumbers() {
    #expect(NVMeStatus(sct: 1, sc: 0xF0).description == "status sct 1 sc 0xF0")
    #expect(NVMeStatus(sct: 0, sc: 0x7F).description == "status sct 0 sc 0x7F")
    #expect(NVMeStatus(sct: 7, sc: 0x01, dnr: true).name == nil)
  }

  @Test func flagsDoNotChangeTheName() {
    let status = NVMeStatus(sct: 0, sc: 0x0B, dnr: true, more: true)
    #expect(status.description == "Invalid Namespace or Format (0x0B)")
    #expect(!status.description.contains("NVMeStatus"))
  }
}
