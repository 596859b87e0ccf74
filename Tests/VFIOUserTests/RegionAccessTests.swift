import Testing
import VFIOUser
import VFIOUserClient

@Suite struct RegionAccessTests {
  @Test func readWriteRoundTrip() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.regionWrite(7, offset: 0x40, data: [1, 2, 3, 4, 5, 6, 7])
    #expect(try client.regionRead(7, offset: 0x40, count: 7) == [1, 2, 3, 4, 5, 6, 7])
    #expect(try client.regionRead(1, offset: 4, count: 4) == [4, 5, 6, 7])
  }

  @Test func accessPastTheEndIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) { _ = try client.regionRead(7, offset: 253, count: 4) }
    expectErrno(.invalidArgument) { _ = try client.regionRead(7, offset: 256, count: 1) }
    expectErrno(.invalidArgument) { try client.regionWrite(7, offset: 255, data: [1, 2]) }
    expectErrno(.invalidArgument) { _ = try client.regionRead(7, offset: .max, count: 2) }
    expectErrno(.invalidArgument) { _ = try client.regionRead(0, offset: .max - 1, count: 4) }
    expectErrno(.invalidArgument) { _ = try client.regionRead(4, offset: 0, count: 1) }  // absent
    expectErrno(.invalidArgument) { _ = try client.regionRead(9, offset: 0, count: 1) }
    expectErrno(.invalidArgument) { _ = try client.regionRead(.max, offset: 0, count: 1) }
    #expect(try client.regionRead(7, offset: 252, count: 4).count == 4)
  }

  @Test func writeToReadOnlyRegionIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) { try client.regionWrite(1, offset: 0, data: [9]) }
  }

  @Test func countAboveTransferSizeIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let access = RegionAccess(offset: 0, region: 0, count: (1 << 20) + 1)
    expectErrno(.tooBig) { _ = try client.request(.regionRead, payload: access.encoded) }
  }

  @Test func writeWhoseDataDisagreesWithCountIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let access = RegionAccess(offset: 0x40, region: 7, count: 8)
    expectErrno(.invalidArgument) {
      _ = try client.request(.regionWrite, payload: access.encoded + [1, 2, 3])
    }
    expectErrno(.invalidArgument) {
      _ = try client.request(
        .regionWrite, payload: access.encoded + [UInt8](repeating: 1, count: 9))
    }
    #expect(try client.regionRead(7, offset: 0x40, count: 8) == [UInt8](repeating: 0, count: 8))
  }

  @Test func writeMultiAppliesEveryWriteInOrder() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let written = try client.regionWriteMulti([
      RegionWriteOne(offset: 0x10, region: 7, data: [1, 2, 3, 4]),
      RegionWriteOne(offset: 0x12, region: 7, data: [9]),
      RegionWriteOne(offset: 0x80, region: 0, data: [1, 2, 3, 4, 5, 6, 7, 8]),
    ])
    #expect(written == 3)
    #expect(try client.regionRead(7, offset: 0x10, count: 4) == [1, 2, 9, 4])
    #expect(try client.regionRead(0, offset: 0x80, count: 8) == [1, 2, 3, 4, 5, 6, 7, 8])
  }

  @Test func writeMultiBadInputIsRefusedWithoutPartialWrites() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    // One bad entry (past the end) refuses the whole message before any write lands.
    expectErrno(.invalidArgument) {
      _ = try client.regionWriteMulti([
        RegionWriteOne(offset: 0x20, region: 7, data: [7]),
        RegionWriteOne(offset: 0x100, region: 7, data: [7]),
      ])
    }
    #expect(try client.regionRead(7, offset: 0x20, count: 1) == [0])
    // More than 200 entries.
    expectErrno(.invalidArgument) {
      _ = try client.regionWriteMulti(
        Array(repeating: RegionWriteOne(offset: 0, region: 7, data: [1]), count: 201))
    }
    // A count above 8 bytes.
    var writer = WireWriter()
    writer.write(UInt64(1))
    RegionAccess(offset: 0, region: 7, count: 9).encode(to: &writer)
    writer.append([UInt8](repeating: 0, count: 8))
    expectErrno(.invalidArgument) {
      _ = try client.request(.regionWriteMulti, payload: writer.bytes)
    }
    // wr_cnt disagreeing with the payload.
    var lying = WireWriter()
    lying.write(UInt64.max)
    RegionWriteOne(offset: 0, region: 7, data: [1]).encode(to: &lying)
    expectErrno(.invalidArgument) {
      _ = try client.request(.regionWriteMulti, payload: lying.bytes)
    }
  }

  @Test func writeMultiNeedsNegotiation() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    var caps = Capabilities.qemuClient
    caps.writeMultiple = false
    let client = try harness.client(caps)
    expectErrno(.notSupported) {
      _ = try client.regionWriteMulti([RegionWriteOne(offset: 0, region: 7, data: [1])])
    }
  }
}
