import POSIX
import Testing
import VFIOUser
import VFIOUserClient

/// Header-level garbage: each gets an error reply or a clean disconnect, and the server
/// then serves a new client.
@Suite struct FramingTests {
  @Test func shortHeaderThenCloseIsAHarmlessDisconnect() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    try client.sendRaw([1, 0, 1, 0, 16, 0, 0, 0])
    UnixSocket.shutdownWrite(client.connection.socket)
    expectDisconnected(client)
    try harness.expectServesNewClient()
  }

  @Test func sizeBelowHeaderDisconnects() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.sendRaw(rawMessage(command: 4, size: 8))
    expectDisconnected(client)
    try harness.expectServesNewClient()
  }

  @Test func sizeAboveLimitGetsE2BIGThenDisconnect() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.sendRaw(rawMessage(id: 42, command: 10, size: 0x7FFF_FFFF))
    expectErrno(.tooBig) { _ = try client.awaitReply(id: 42) }
    expectDisconnected(client)
    try harness.expectServesNewClient()
  }

  @Test(arguments: [0, 14, 16, 99, 0xFFFF] as [UInt16])
  func unknownCommandGetsENOSYS(_ command: UInt16) throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.sendRaw(rawMessage(id: 9, command: command))
    expectErrno(.notImplemented) { _ = try client.awaitReply(id: 9) }
    #expect(try client.deviceInfo().numRegions == 9)
  }

  @Test func serverToClientCommandsFromClientAreRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) {
      _ = try client.request(.dmaRead, payload: [UInt8](repeating: 0, count: 16))
    }
    expectErrno(.invalidArgument) {
      _ = try client.request(.dmaWrite, payload: [UInt8](repeating: 0, count: 20))
    }
  }

  @Test func unsolicitedReplyDisconnects() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.sendRaw(rawMessage(command: 4, flags: 1, payload: [UInt8](repeating: 0, count: 16)))
    expectDisconnected(client)
    try harness.expectServesNewClient()
  }

  @Test func undefinedTypeBitsGetEINVAL() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.sendRaw(
      rawMessage(
        id: 5, command: 4, flags: 3,
        payload: DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded))
    expectErrno(.invalidArgument) { _ = try client.awaitReply(id: 5) }
    #expect(try client.deviceInfo().numRegions == 9)
  }

  @Test func noReplyFlagSuppressesTheReply() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    var writer = WireWriter()
    writer.write(UInt32(0x5A5A_A5A5))
    let access = RegionAccess(offset: 8, region: 7, count: 4)
    try client.sendRaw(
      rawMessage(id: 77, command: 10, flags: 1 << 4, payload: access.encoded + writer.bytes))
    // The next reply the client sees belongs to the next request; the write happened.
    #expect(try client.regionRead32(7, offset: 8) == 0x5A5A_A5A5)
  }

  @Test func payloadsTooShortForTheirCommandGetEINVAL() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let commands: [Command] = [
      .dmaMap, .dmaUnmap, .deviceGetInfo, .deviceGetRegionInfo, .deviceGetRegionIOFDs,
      .deviceGetIRQInfo, .deviceSetIRQs, .regionRead, .regionWrite, .regionWriteMulti,
    ]
    for command in commands {
      expectErrno(.invalidArgument) { _ = try client.request(command, payload: [1, 2, 3]) }
    }
    expectErrno(.invalidArgument) { _ = try client.request(.deviceReset, payload: [1]) }
    #expect(try client.deviceInfo().numRegions == 9)
  }

  @Test func messagesSplitAcrossWritesAreReassembled() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let bytes = rawMessage(
      id: 3, command: 4, payload: DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded)
    for byte in bytes {
      try client.sendRaw([byte])
    }
    let reply = try client.awaitReply(id: 3)
    #expect(try DeviceInfo(payload: reply.payload).numRegions == 9)
  }
}
