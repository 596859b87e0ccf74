import POSIX
import Testing
import VFIOUser

@testable import VFIOUserClient

/// Posted commands (No_reply): applied in order, never answered, and a
/// stray error reply to one is recognized as that post's, not taken for
/// the reply being waited for.
@Suite struct PostedCommandTests {
  /// A post is one message and no reply; the next request's reply comes
  /// after the post was applied.
  @Test func postedWriteIsAppliedBeforeTheNextReply() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let requests = client.requestsSent
    for value in UInt32(1)...50 {
      try client.postRegionWrite32(7, offset: 0x40, 0xA500_0000 | value)
    }
    #expect(client.postsSent == 50)
    #expect(client.requestsSent == requests, "posting waits for nothing")
    #expect(try client.regionRead32(7, offset: 0x40) == 0xA500_0032, "all 50 applied, in order")
    #expect(client.requestsSent == requests + 1)
    // Nothing else came: no reply to any of the posts.
    #expect(try !UnixSocket.waitReadable(client.connection.socket, timeoutMilliseconds: 50))
    #expect(client.postedFailure == nil)
  }

  /// A failed post gets no reply either (only a failure that drops the
  /// client is answered): the session goes on.
  @Test func refusedPostIsSilent() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.postRegionWrite32(1, offset: 0, 9)  // region 1 is read-only
    #expect(try client.regionRead(7, offset: 0, count: 2) == [0x34, 0x12])
    #expect(client.postedFailure == nil)
    #expect(try !UnixSocket.waitReadable(client.connection.socket, timeoutMilliseconds: 50))
  }

  /// A peer that answers a post with an error (the server does so only as
  /// it drops the connection): the request waiting meanwhile still gets its
  /// own reply, and the post's errno surfaces at the next post.
  @Test func errorReplyToAPostIsNotTakenForTheRequestsReply() throws {
    let (ours, theirs) = try UnixSocket.pair()
    let client = try VFIOUserClient(socket: ours)
    let peer = try Connection(socket: theirs, maxMessageSize: 1 << 16)
    try client.postRegionWrite32(0, offset: 0x1000, 1)
    var posted = try peer.receive(timeoutMilliseconds: 1000)
    posted.closeFDs()
    #expect(posted.header.noReply)
    #expect(posted.header.command == .regionWrite)
    try peer.sendError(to: posted.header, .invalidArgument)
    // The reply to the request the client sends next (the ID after the post).
    var next = posted.header
    next.id = posted.header.id &+ 1
    next.rawCommand = Command.deviceGetInfo.rawValue
    next.flags = 0
    try peer.sendReply(
      to: next, payload: DeviceInfo(flags: 0, numRegions: 9, numIRQs: 5).encoded)

    let info = try client.deviceInfo()
    #expect(info.numRegions == 9 && info.numIRQs == 5, "the request got its own reply")
    #expect(client.postedFailure == .invalidArgument)
    expectErrno(.invalidArgument) { try client.postRegionWrite32(0, offset: 0x1000, 2) }
  }

  /// A reply for an ID nobody posted or asked for is still a protocol error.
  @Test func replyToNoPostIsAProtocolError() throws {
    let (ours, theirs) = try UnixSocket.pair()
    let client = try VFIOUserClient(socket: ours)
    let peer = try Connection(socket: theirs, maxMessageSize: 1 << 16)
    try client.postRegionWrite32(0, offset: 0x1000, 1)
    var posted = try peer.receive(timeoutMilliseconds: 1000)
    posted.closeFDs()
    var other = posted.header
    other.id = posted.header.id &- 1
    try peer.sendError(to: other, .invalidArgument)
    expectErrno(.protocolError) { _ = try client.awaitReply(id: posted.header.id &+ 1) }
  }

  /// The window of posted IDs never reaches a request's ID: at the limit one
  /// post waits for its reply, which closes the window.
  @Test func theWindowLimitTurnsOnePostIntoARequest() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let requests = client.requestsSent
    for value in 0..<UInt32(PostedWindow.limit) {
      try client.postRegionWrite32(7, offset: 0x40, value)
    }
    #expect(client.postsSent == UInt64(PostedWindow.limit))
    #expect(client.requestsSent == requests)
    try client.postRegionWrite32(7, offset: 0x40, 0xFEED)
    #expect(client.requestsSent == requests + 1, "the post at the limit waited")
    #expect(client.posted.count == 0, "and its reply closed the window")
    try client.postRegionWrite32(7, offset: 0x40, 0xBEEF)
    #expect(client.postsSent == UInt64(PostedWindow.limit) + 1)
    #expect(try client.regionRead32(7, offset: 0x40) == 0xBEEF)
  }

  @Test func windowHoldsTheRunOfPostedIDsAcrossTheWrap() {
    var window = PostedWindow()
    #expect(!window.contains(0))
    for id in [65534, 65535, 0, 1] as [UInt16] { window.add(id) }
    for id in [65534, 65535, 0, 1] as [UInt16] { #expect(window.contains(id), "id \(id)") }
    for id in [65533, 2, 100, 32768] as [UInt16] { #expect(!window.contains(id), "id \(id)") }
    window.close()
    #expect(!window.contains(65534) && !window.contains(1))
  }
}
