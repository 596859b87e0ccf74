import Foundation
import Testing
import VFIOUser
import VFIOUserClient

@Suite struct VersionTests {
  @Test func replyPassesQEMUChecksAndIsNULTerminated() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    let proposal = VersionMessage(major: 0, minor: 0, capabilities: .qemuClient)
    let reply = try client.request(.version, payload: proposal.encoded)
    #expect(reply.payload.last == 0)
    let version = try VersionMessage(payload: reply.payload)
    #expect(version.major == 0)
    #expect(version.minor == 0)
    let caps = version.capabilities
    #expect(caps.maxMessageFDs <= 16)
    #expect(caps.maxDataTransferSize <= 64 << 20)
    #expect(caps.maxDMAMaps <= 65535)
    #expect(caps.pageSizes == 4096)
    #expect(caps.writeMultiple)
    #expect(!caps.migration)
  }

  @Test func minorIsMinnedAndCapabilitiesAreASubset() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    var proposal = Capabilities()
    proposal.maxDMAMaps = 10
    proposal.pageSizes = 4096 | 2 << 20
    proposal.writeMultiple = false
    let version = try harness.connect().negotiate(proposal, minor: 7)
    #expect(version.minor == VersionNegotiation.maxMinor)
    #expect(version.capabilities.maxDMAMaps == 10)
    #expect(version.capabilities.pageSizes == 4096)
    #expect(version.capabilities.writeMultiple == false)
  }

  @Test func emptyJSONMeansDefaults() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    let reply = try client.request(.version, payload: [0, 0, 0, 0])
    let version = try VersionMessage(payload: reply.payload)
    #expect(version.capabilities.writeMultiple == false)
    // SPDK-style client without JSON: max_msg_fds defaults to 1, and it works.
    #expect(try client.deviceInfo().numIRQs == 5)
  }

  @Test func versionNotFirstIsRefusedThenVersionWorks() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    expectErrno(.invalidArgument) { _ = try client.deviceInfo() }
    try client.negotiate()
    #expect(try client.deviceInfo().numRegions == 9)
  }

  @Test func secondVersionIsRefusedButSessionContinues() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) { try client.negotiate() }
    #expect(try client.deviceInfo().numRegions == 9)
  }

  @Test func otherMajorIsRefusedAndDisconnected() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    expectErrno(.notSupported) { try client.negotiate(major: 1) }
    expectDisconnected(client)
    try harness.expectServesNewClient()
  }

  static let badJSON: [(String, [UInt8])] = [
    ("no NUL", Array(#"{"capabilities":{}}"#.utf8)),
    ("bytes after NUL", Array(#"{"capabilities":{}}"#.utf8) + [0, 65, 0]),
    ("not JSON", Array("hello".utf8) + [0]),
    ("not an object", Array("[1,2]".utf8) + [0]),
    ("string for a number", Array(#"{"capabilities":{"max_msg_fds":"16"}}"#.utf8) + [0]),
    ("bool for a number", Array(#"{"capabilities":{"pgsizes":true}}"#.utf8) + [0]),
    ("number for a bool", Array(#"{"capabilities":{"write_multiple":1}}"#.utf8) + [0]),
    ("fraction", Array(#"{"capabilities":{"max_dma_maps":1.5}}"#.utf8) + [0]),
    ("negative", Array(#"{"capabilities":{"max_msg_fds":-1}}"#.utf8) + [0]),
    ("zero transfer size", Array(#"{"capabilities":{"max_data_xfer_size":0}}"#.utf8) + [0]),
    (
      "huge transfer size",
      Array(#"{"capabilities":{"max_data_xfer_size":68719476736}}"#.utf8) + [0]
    ),
    ("huge fd count", Array(#"{"capabilities":{"max_msg_fds":100000}}"#.utf8) + [0]),
    ("zero maps", Array(#"{"capabilities":{"max_dma_maps":0}}"#.utf8) + [0]),
    ("no 4k pages", Array(#"{"capabilities":{"pgsizes":8192}}"#.utf8) + [0]),
    ("migration not an object", Array(#"{"capabilities":{"migration":3}}"#.utf8) + [0]),
    ("capabilities not an object", Array(#"{"capabilities":[]}"#.utf8) + [0]),
    ("invalid UTF-8", [0x7B, 0xFF, 0xFE, 0x7D, 0]),
    ("too long", Array("{\"x\":\"\(String(repeating: "a", count: 5000))\"}".utf8) + [0]),
  ]

  @Test(arguments: badJSON)
  func badJSONIsRefusedAndDisconnected(_ name: String, _ json: [UInt8]) throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    do {
      _ = try client.request(.version, payload: [0, 0, 0, 0] + json)
      Issue.record("\(name): accepted")
    } catch {
      #expect(error == .invalidArgument || error == .tooBig, "\(name)")
    }
    expectDisconnected(client)
    try harness.expectServesNewClient()
  }

  @Test func migrationObjectIsAcceptedAndIgnored() throws {
    let json =
      Array(
        #"{"capabilities":{"migration":{"pgsize":4096,"max_bitmap_size":1024}, "unknown_key": [1]}}"#
          .utf8) + [0]
    let caps = try CapabilitiesJSON.decode(json[...])
    #expect(caps.migration)
    #expect(caps.maxMessageFDs == 1)
  }

  @Test func encodedCapabilitiesRoundTrip() throws {
    var caps = Capabilities.qemuClient
    caps.migration = false
    let bytes = CapabilitiesJSON.encode(caps)
    #expect(bytes.last == 0)
    #expect(try CapabilitiesJSON.decode(bytes[...]) == caps)
  }

  @Test func shortVersionPayloadIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    expectErrno(.invalidArgument) { _ = try client.request(.version, payload: [0, 0]) }
    expectDisconnected(client)
  }
}
