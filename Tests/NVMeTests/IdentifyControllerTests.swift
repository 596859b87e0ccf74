import Testing

@testable import NVMe

private func le<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T? {
  DataPage.read(T.self, from: bytes, at: offset)
}

private func ascii(_ bytes: [UInt8], _ offset: Int, _ length: Int) -> String {
  String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
}

@Suite("Identify Controller (CNS 01h)")
struct IdentifyControllerTests {
  static func sample() -> ControllerIdentity {
    ControllerIdentity(
      vid: 0x4E56, ssvid: 0x1234, serialNumber: "SN0001", modelNumber: "nvme-vfu test model",
      firmwareRevision: "0.1", ieeeOUI: 0x00AB_CDEF, mdtsExponent: 5, controllerID: 0x21,
      oaes: ControllerIdentity.OAES.namespaceAttributeNotices,
      oacs: ControllerIdentity.OACS.formatNVM | ControllerIdentity.OACS.doorbellBufferConfig,
      acl: 3, aerl: 7, frmw: 0b11,
      lpa: ControllerIdentity.LPA.commandsSupportedAndEffects | ControllerIdentity.LPA.extendedData,
      elpe: 63, kas: 10, maxcmd: 1024, nn: 4,
      oncs: ControllerIdentity.ONCS.writeZeroes | ControllerIdentity.ONCS.datasetManagement,
      fna: ControllerIdentity.FNA.formatAppliesToAllNamespaces,
      awun: 7, awupf: 3, sgls: ControllerIdentity.SGLS.supportedDwordAligned,
      subnqn: "nqn.2019-08.org.example:nvme-vfu:SN0001",
      powerStates: [PowerStateDescriptor(maxPower: 2500, entryLatency: 5, exitLatency: 6)])
  }

  @Test("Encodes exactly 4096 bytes")
  func size() {
    #expect(Self.sample().encode().count == 4096)
  }

  @Test("Header fields: VID, SSVID, SN/MN/FR space padded, IEEE, MDTS, CNTLID, VER")
  func header() {
    let b = Self.sample().encode()
    #expect(le(b, 0, as: UInt16.self) == 0x4E56)
    #expect(le(b, 2, as: UInt16.self) == 0x1234)
    #expect(ascii(b, 4, 20) == "SN0001" + String(repeating: " ", count: 14))
    #expect(ascii(b, 24, 40) == "nvme-vfu test model" + String(repeating: " ", count: 21))
    #expect(ascii(b, 64, 8) == "0.1     ")
    #expect(Array(b[73..<76]) == [0xEF, 0xCD, 0xAB])
    #expect(b[77] == 5)
    #expect(le(b, 78, as: UInt16.self) == 0x21)
    #expect(le(b, 80, as: UInt32.self) == 0x0002_0000)
    #expect(le(b, 92, as: UInt32.self) == 1 << 8)
    #expect(b[111] == 1)  // CNTRLTYPE: I/O controller
  }

  @Test("Admin command set attributes at 256-319")
  func adminAttributes() {
    let b = Self.sample().encode()
    #expect(le(b, 256, as: UInt16.self) == 0x0102)
    #expect(b[258] == 3)
    #expect(b[259] == 7)
    #expect(b[260] == 0b11)
    #expect(b[261] == 0b110)
    #expect(b[262] == 63)
    #expect(b[263] == 0)  // NPSS: one power state
    #expect(le(b, 266, as: UInt16.self) == 343)
    #expect(le(b, 268, as: UInt16.self) == 373)
    #expect(le(b, 320, as: UInt16.self) == 10)
  }

  @Test("NVM command set attributes at 512-539 and SUBNQN at 768")
  func nvmAttributes() {
    let b = Self.sample().encode()
    #expect(b[512] == 0x66)
    #expect(b[513] == 0x44)
    #expect(le(b, 514, as: UInt16.self) == 1024)
    #expect(le(b, 516, as: UInt32.self) == 4)
    #expect(le(b, 520, as: UInt16.self) == 0b1100)
    #expect(le(b, 522, as: UInt16.self) == 0)
    #expect(b[524] == 1)
    #expect(b[525] == 0b111)  // present, flush broadcast supported
    #expect(le(b, 526, as: UInt16.self) == 7)
    #expect(le(b, 528, as: UInt16.self) == 3)
    #expect(le(b, 536, as: UInt32.self) == 0b10)
    let nqn = "nqn.2019-08.org.example:nvme-vfu:SN0001"
    #expect(ascii(b, 768, nqn.utf8.count) == nqn)
    #expect(b[768 + nqn.utf8.count] == 0)  // NUL terminated, not space padded
    #expect(b[1023] == 0)
  }

  @Test("Power state descriptor 0 at 2048")
  func powerState() {
    let b = Self.sample().encode()
    #expect(le(b, 2048, as: UInt16.self) == 2500)
    #expect(b[2051] == 0)  // MXPS=0 (centiwatts), operational
    #expect(le(b, 2052, as: UInt32.self) == 5)
    #expect(le(b, 2056, as: UInt32.self) == 6)
    #expect(b[2048 + 32..<2048 + 64].allSatisfy { $0 == 0 })  // PSD1 absent
  }

  @Test("VWC absent reads 0; long and non-ASCII strings are clipped and sanitized")
  func edgeCases() {
    var id = Self.sample()
    id.volatileWriteCachePresent = false
    id.serialNumber = "ÄBCDEFGHIJKLMNOPQRSTUVWXYZ"
    let b = id.encode()
    #expect(b[525] == 0)
    #expect(b[4..<24].allSatisfy { (0x20...0x7E).contains($0) })
    #expect(b[24] == UInt8(ascii: "n"))  // SN did not spill into MN
  }
}
