import TestSupport
import Testing

@testable import PCI

@Suite("Hostile accesses")
struct RobustnessTests {
  static let badOffsets = [-1, -4, Int.min, Int.max, Int.max - 3, 4096, 4097, 1 << 40]

  @Test("config reads outside the space or with bad counts return nil")
  func configReadOutOfRange() throws {
    let function = try Fixture.function()
    for offset in Self.badOffsets {
      #expect(function.configRead(offset: offset, count: 4) == nil)
    }
    for count in [0, -1, Int.min, Int.max, 4097] {
      #expect(function.configRead(offset: 0, count: count) == nil)
    }
    #expect(function.configRead(offset: 4093, count: 4) == nil)
    #expect(function.configRead(offset: 1, count: 4096) == nil)
    #expect(function.configRead(offset: 0, count: 4096)?.count == 4096)
    #expect(function.configRead(offset: 4095, count: 1) == [0])
  }

  @Test("config writes outside the space return false and change nothing")
  func configWriteOutOfRange() throws {
    let function = try Fixture.function()
    let before = function.configSpace
    for offset in Self.badOffsets {
      #expect(!function.configWrite(offset: offset, bytes: [0xFF, 0xFF, 0xFF, 0xFF]))
    }
    #expect(!function.configWrite(offset: 0, bytes: []))
    #expect(!function.configWrite(offset: 0, bytes: Array(repeating: 0xFF, count: 4097)))
    // Straddling the end is refused whole, not applied partially.
    #expect(!function.configWrite(offset: 4090, bytes: Array(repeating: 0xFF, count: 8)))
    #expect(function.configSpace == before)
  }

  @Test("a whole-space write of all-ones keeps identity and caps intact")
  func wholeSpaceWrite() throws {
    let function = try Fixture.function()
    var ones = Array(repeating: UInt8(0xFF), count: 4096)
    ones[0x69] = 0x7F  // all but Initiate FLR
    #expect(function.configWrite(offset: 0, bytes: ones))
    #expect(function.read32(0x00) == 0x5646_4E56)
    #expect(function.read32(0x08) == 0x0108_0200)
    #expect(function.read8(0x34) == 0x40)
    #expect(function.read16(0x52) == 0xC045)
    #expect(function.powerState == .d3hot)
    // With Initiate FLR too, the write resets the function, caps intact.
    #expect(function.configWrite(offset: 0, bytes: Array(repeating: 0xFF, count: 4096)))
    #expect(function.read32(0x00) == 0x5646_4E56)
    #expect(function.read16(0x52) == 0x0045)
    #expect(function.powerState == .d0)
  }

  @Test("table and PBA accesses with extreme offsets are refused")
  func msixOutOfRange() throws {
    let msix = try #require(try Fixture.function().msix)
    for offset in [-8, -4, Int.min, Int.max, Int.max - 7, 1 << 40] {
      #expect(msix.tableRead(offset: offset, count: 4) == nil)
      #expect(msix.tableRead(offset: offset, count: 8) == nil)
      #expect(!msix.tableWrite(offset: offset, bytes: [0, 0, 0, 0]))
      #expect(msix.pbaRead(offset: offset, count: 8) == nil)
      #expect(!msix.pbaWrite(offset: offset, bytes: [0, 0, 0, 0]))
    }
    for count in [Int.min, -8, Int.max] {
      #expect(msix.tableRead(offset: 0, count: count) == nil)
      #expect(msix.pbaRead(offset: 0, count: count) == nil)
    }
  }

  @Test("random config accesses never crash or change identity")
  func randomConfigAccesses() throws {
    let function = try Fixture.function()
    var generator = SplitMix64(seed: 0x5EED)
    for _ in 0..<20_000 {
      let offset = Int(truncatingIfNeeded: generator.next() % 4200) - 50
      let count = Int(truncatingIfNeeded: generator.next() % 12)
      let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      let accepted = function.configWrite(offset: offset, bytes: bytes)
      #expect(accepted == (count > 0 && offset >= 0 && offset + count <= 4096))
      _ = function.configRead(offset: offset, count: count)
    }
    #expect(function.read32(0x00) == 0x5646_4E56)
    #expect(function.read32(0x08) == 0x0108_0200)
    #expect(function.read8(0x34) == 0x40)
    #expect(function.read16(0x52).map { $0 & 0x07FF } == 69)
    #expect(function.read16(0x62) == 0x0002)
  }
}
