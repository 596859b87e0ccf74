import Testing

@testable import PCI

@Suite("Capabilities")
struct CapabilityTests {
  /// Walks the list from 0x34 the way Linux does, with a loop bound.
  func walk(_ function: PCIFunction) -> [(offset: Int, id: UInt8)] {
    var found: [(offset: Int, id: UInt8)] = []
    var next = Int(function.read8(0x34) ?? 0)
    while next != 0 && found.count < 48 {
      guard next >= 0x40, next % 4 == 0, let id = function.read8(next) else { break }
      found.append((next, id))
      next = Int(function.read8(next + 1) ?? 0)
    }
    return found
  }

  @Test("chain from 0x34 visits PM, MSI-X, PCIe in order and terminates")
  func chainWalk() throws {
    let chain = walk(try Fixture.function())
    #expect(chain.map(\.id) == [0x01, 0x11, 0x10])
    #expect(chain.map(\.offset) == [0x40, 0x50, 0x60])
    #expect(chain.allSatisfy { $0.offset % 4 == 0 })
  }

  @Test("without MSI-X the chain is PM then PCIe")
  func chainWithoutMSIX() throws {
    let function = try PCIFunction(bars: Fixture.bars, msix: nil)
    #expect(walk(function).map(\.id) == [0x01, 0x10])
    #expect(function.msix == nil)
  }

  @Test("capability headers are read-only")
  func headersReadOnly() throws {
    let function = try Fixture.function()
    for offset in [0x40, 0x50, 0x60] { function.write16(offset, 0x0000) }
    #expect(walk(function).map(\.id) == [0x01, 0x11, 0x10])
  }

  @Test("PM: version 3, D0 -> D3hot -> D0, unsupported D1/D2 refused")
  func powerManagement() throws {
    let function = try Fixture.function()
    #expect(function.read16(0x42).map { $0 & 0x7 } == 3)
    #expect(function.read16(0x44) == 0x0008)  // D0, No_Soft_Reset
    function.write16(0x44, 0x0003)
    #expect(function.powerState == .d3hot)
    function.write16(0x44, 0x0001)  // D1: unsupported, ignored
    #expect(function.powerState == .d3hot)
    function.write16(0x44, 0xFFF0)  // only the state field is writable
    #expect(function.read16(0x44) == 0x0008)
    #expect(function.powerState == .d0)
  }

  @Test("PCIe: v2 endpoint, MPS 256, x4 8GT/s link")
  func pcieCapability() throws {
    let function = try Fixture.function()
    let base = 0x60
    #expect(function.read16(base + 2) == 0x0002)  // version 2, type Endpoint (0)
    #expect(function.read32(base + 4).map { $0 & 0x7 } == 1)  // MPS supported 256
    #expect(function.read32(base + 0x0C).map { $0 & 0xF } == 3)  // max speed 8 GT/s
    #expect(function.read32(base + 0x0C).map { ($0 >> 4) & 0x3F } == 4)  // max width x4
    #expect(function.read16(base + 0x12).map { $0 & 0xF } == 3)  // current speed
    #expect(function.read16(base + 0x12).map { ($0 >> 4) & 0x3F } == 4)  // negotiated x4
    #expect(function.read32(base + 0x2C).map { $0 & 0xFE } == 0x0E)  // 2.5/5/8 GT/s
  }

  @Test("PCIe device control: MPS/MRRS writable, reserved bits not, FLR reads 0")
  func pcieDeviceControl() throws {
    let function = try Fixture.function()
    let control = 0x68
    #expect(function.read16(control) == 0x2810)
    function.write16(control, 0x7FFF)
    #expect(function.read16(control) == 0x79FF)
    function.write16(control, 0xFFFF)  // Initiate FLR: a reset to the defaults
    #expect(function.read16(control) == 0x28F0, "defaults, but MPS survives the FLR")
    function.write16(control, 0x2030)  // MPS 256, MRRS 512, relaxed ordering
    #expect(function.read16(control) == 0x2030)
  }

  @Test("PCIe device status error bits are RW1C")
  func pcieDeviceStatus() throws {
    let function = try Fixture.function()
    var config = function.config
    config.set16(0x0009, at: 0x6A)
    function.config = config
    function.write16(0x6A, 0x0001)
    #expect(function.read16(0x6A) == 0x0008)
  }
}
