import Testing

@testable import NVMe

private func le<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T? {
  DataPage.read(T.self, from: bytes, at: offset)
}

private func nsids(_ page: [UInt8]) -> [UInt32] {
  var out: [UInt32] = []
  for i in 0..<1024 {
    guard let id = le(page, i * 4, as: UInt32.self), id != 0 else { break }
    out.append(id)
  }
  return out
}

@Suite("Identify lists (CNS 02h, 03h, 1Ch)")
struct IdentifyListsTests {
  @Test("Active NSID list is ascending, strictly greater than the given NSID, zero terminated")
  func activeList() throws {
    let active: [UInt32] = [7, 3, 1, 3, 12]
    let all = try #require(IdentifyLists.activeNamespaceList(active: active, after: 0))
    #expect(all.count == 4096)
    #expect(nsids(all) == [1, 3, 7, 12])
    let after3 = try #require(IdentifyLists.activeNamespaceList(active: active, after: 3))
    #expect(nsids(after3) == [7, 12])
    let afterAll = try #require(IdentifyLists.activeNamespaceList(active: active, after: 12))
    #expect(afterAll.allSatisfy { $0 == 0 })
  }

  @Test("Active NSID list caps at 1024 and rejects FFFFFFFEh/FFFFFFFFh")
  func activeListLimits() throws {
    let many = (1...2000).map { UInt32($0) }
    let page = try #require(IdentifyLists.activeNamespaceList(active: many, after: 0))
    #expect(nsids(page).count == 1024)
    #expect(le(page, 4092, as: UInt32.self) == 1024)
    #expect(IdentifyLists.activeNamespaceList(active: many, after: 0xFFFF_FFFE) == nil)
    #expect(IdentifyLists.activeNamespaceList(active: many, after: 0xFFFF_FFFF) == nil)
  }

  @Test("Namespace descriptor list: EUI-64, NGUID, UUID, CSI with type/length headers")
  func descriptors() {
    let eui: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    let nguid: [UInt8] = Array(0x10..<0x20)
    let uuid: [UInt8] = Array(0x30..<0x40)
    let b = NamespaceDescriptor.list([
      .eui64(eui), .nguid(nguid), .uuid(uuid), .commandSet(.nvm),
    ])
    #expect(b.count == 4096)
    #expect(Array(b[0..<4]) == [1, 8, 0, 0])
    #expect(Array(b[4..<12]) == eui)
    #expect(Array(b[12..<16]) == [2, 16, 0, 0])
    #expect(Array(b[16..<32]) == nguid)
    #expect(Array(b[32..<36]) == [3, 16, 0, 0])
    #expect(Array(b[36..<52]) == uuid)
    #expect(Array(b[52..<57]) == [4, 1, 0, 0, 0])  // CSI = NVM
    #expect(b[57..<4096].allSatisfy { $0 == 0 })
  }

  @Test("Zero or wrong-length identifiers are left out of the descriptor list")
  func descriptorsSkipInvalid() {
    let b = NamespaceDescriptor.list([
      .eui64([0, 0, 0, 0, 0, 0, 0, 0]), .nguid([1, 2]), .commandSet(.nvm),
    ])
    #expect(Array(b[0..<5]) == [4, 1, 0, 0, 0])
    #expect(b[5..<4096].allSatisfy { $0 == 0 })
  }

  @Test("I/O command set combination 0 is NVM only")
  func commandSets() {
    let b = IdentifyLists.ioCommandSetCombinations()
    #expect(b.count == 4096)
    #expect(le(b, 0, as: UInt64.self) == 1)
    #expect(b[8...].allSatisfy { $0 == 0 })
  }
}
