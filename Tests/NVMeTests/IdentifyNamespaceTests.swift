import Testing

@testable import NVMe

private func le<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T? {
  DataPage.read(T.self, from: bytes, at: offset)
}

@Suite("Identify Namespace (CNS 00h, 05h)")
struct IdentifyNamespaceTests {
  static let nguid: [UInt8] = Array(1...16)
  static let eui: [UInt8] = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7]

  static func sample() -> NamespaceIdentity {
    NamespaceIdentity(
      nsze: 0x1_0000_0000, ncap: 0x0FFF_FFFF, nuse: 0x1234, thinProvisioning: true,
      lbaFormats: [.lba512, .lba4096], formatIndex: 1,
      optimalPerformance: .init(npwg: 7, npwa: 7, npdg: 7, npda: 7, nows: 31),
      mssrl: 128, mcl: 1024, msrc: 0, nguid: nguid, eui64: eui)
  }

  @Test("Key offsets: NSZE, NCAP, NUSE, NSFEAT, NLBAF, FLBAS, DLFEAT, NGUID, EUI64, LBAF")
  func offsets() {
    let b = Self.sample().encode()
    #expect(b.count == 4096)
    #expect(le(b, 0, as: UInt64.self) == 0x1_0000_0000)
    #expect(le(b, 8, as: UInt64.self) == 0x0FFF_FFFF)
    #expect(le(b, 16, as: UInt64.self) == 0x1234)
    #expect(b[24] == 0b1_0001)  // THINP + OPTPERF
    #expect(b[25] == 1)  // two formats, 0-based
    #expect(b[26] == 1)
    #expect(b[33] == 0b1001)  // reads zeroes + write zeroes deallocates
    #expect(le(b, 64, as: UInt16.self) == 7)
    #expect(le(b, 72, as: UInt16.self) == 31)
    #expect(le(b, 74, as: UInt16.self) == 128)
    #expect(le(b, 76, as: UInt32.self) == 1024)
    #expect(b[80] == 0)
    #expect(Array(b[104..<120]) == Self.nguid)
    #expect(Array(b[120..<128]) == Self.eui)
    let lbaf0 = le(b, 128, as: UInt32.self) ?? 0
    #expect((lbaf0 >> 16) & 0xFF == 9)
    #expect(lbaf0 & 0xFFFF == 0)  // MS = 0
    let lbaf1 = le(b, 132, as: UInt32.self) ?? 0
    #expect((lbaf1 >> 16) & 0xFF == 12)
    #expect(le(b, 136, as: UInt32.self) == 0)
  }

  @Test("FLBAS splits format indexes above 15 into bits 6:5")
  func flbasHighIndex() {
    var ns = Self.sample()
    ns.lbaFormats = Array(repeating: .lba4096, count: 20)
    ns.formatIndex = 17
    ns.metadataExtended = true
    #expect(ns.flbas == 0b0011_0001)  // index low 0001, extended bit 4, high 01 in 6:5
    #expect(ns.nlbaf == 19)
  }

  @Test("Inactive namespace data is 4096 zero bytes; bad-length IDs are omitted")
  func inactiveAndBadIDs() {
    #expect(NamespaceIdentity.inactive() == [UInt8](repeating: 0, count: 4096))
    var ns = Self.sample()
    ns.nguid = [1, 2, 3]
    let b = ns.encode()
    #expect(b[104..<120].allSatisfy { $0 == 0 })
  }

  @Test("NVM-specific Identify Namespace (CNS 05h): LBSTM, PIC, one ELBAF per format")
  func nvmSpecific() {
    let plain = NVMNamespaceIdentity(formatCount: 2).encode()
    #expect(plain.count == 4096)
    #expect(plain.allSatisfy { $0 == 0 })
    let pi = NVMNamespaceIdentity(
      lbstm: 0xFF, pic: 1,
      extendedFormats: [.init(), .init(storageTagSize: 8, protectionInformationFormat: 2)]
    ).encode()
    #expect(le(pi, 0, as: UInt64.self) == 0xFF)
    #expect(pi[8] == 1)
    #expect(le(pi, 12, as: UInt32.self) == 0)
    let elbaf1: UInt32 = 8 | 2 << 7  // STS 8, PIF 10b
    #expect(le(pi, 16, as: UInt32.self) == elbaf1)
  }

  @Test("NVM-specific Identify Controller (CNS 06h): VSL, WZSL, WUSL, DMRL, DMRSL, DMSL")
  func nvmController() {
    let b = NVMControllerIdentity(
      vsl: 1, wzsl: 2, wusl: 3, dmrl: 4, dmrsl: 0x1000, dmsl: 0x1_0000_0000
    ).encode()
    #expect(b.count == 4096)
    #expect(Array(b[0..<4]) == [1, 2, 3, 4])
    #expect(le(b, 4, as: UInt32.self) == 0x1000)
    #expect(le(b, 8, as: UInt64.self) == 0x1_0000_0000)
  }
}
