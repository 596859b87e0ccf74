import Testing

@testable import PCI

@Suite("ConfigSpace masks")
struct ConfigSpaceTests {
  @Test("writable, RW1C and read-only bits within one byte")
  func mixedMasks() {
    var space = ConfigSpace()
    space.set8(0b1010_1010, at: 0x80)
    space.setMasks(writable: UInt8(0b0000_1111), writeOneToClear: UInt8(0b1111_0000), at: 0x80)
    let accepted = space.write(offset: 0x80, bytes: [0b0110_0101])
    #expect(accepted)
    // Low nibble takes 0101; high nibble 1010 loses bits 6 and 5 (written 1),
    // keeping bit 7 (written 0).
    #expect(space.read(offset: 0x80, count: 1) == [0b1000_0101])
  }

  @Test("a bit in both masks is treated as writable")
  func writableWinsOverClear() {
    var space = ConfigSpace()
    space.setMasks(writable: UInt16(0x00FF), writeOneToClear: UInt16(0xFFFF), at: 0x90)
    space.set16(0xFF00, at: 0x90)
    let accepted = space.write(offset: 0x90, bytes: [0x12, 0x01])
    #expect(accepted)
    #expect(space.get16(0x90) == 0xFE12)
  }

  @Test("typed helpers are little-endian and ignore out-of-range offsets")
  func typedHelpers() {
    var space = ConfigSpace()
    space.set32(0x1122_3344, at: 0xA0)
    #expect(space.read(offset: 0xA0, count: 4) == [0x44, 0x33, 0x22, 0x11])
    #expect(space.get16(0xA1) == 0x2233)
    let before = space
    space.set32(0xFFFF_FFFF, at: 4094)
    space.set32(0xFFFF_FFFF, at: -1)
    space.setMasks(writable: UInt32.max, at: Int.max)
    #expect(space == before)
    #expect(space.get32(4093) == 0)
    #expect(space.get32(Int.min) == 0)
  }
}
