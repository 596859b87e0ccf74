import VFIOUser

/// The VERSION payload as a client sends it: major, minor, then the
/// NUL-terminated capabilities JSON. Whatever it holds, parsing either fails
/// with an errno or yields capabilities inside the accepted bounds, and what
/// the server would reply parses back to what it agreed.
enum VersionHarness {
  static func run(_ input: [UInt8]) -> FuzzReport {
    var report = FuzzReport()
    let proposal: VersionMessage
    do {
      proposal = try VersionMessage(payload: input)
    } catch {
      report.require(error.code > 0, "parse failed with errno \(error.code)")
      report.count("refused")
      return report
    }
    report.count("parsed")
    let caps = proposal.capabilities
    report.require(caps.maxMessageFDs <= Capabilities.maxAcceptedFDs, "max_msg_fds out of range")
    report.require(
      caps.maxDataTransferSize > 0
        && UInt64(caps.maxDataTransferSize) <= Capabilities.maxAcceptedTransferSize,
      "max_data_xfer_size out of range")
    report.require(caps.pageSizes != 0, "pgsizes 0 accepted")
    report.require(
      caps.maxDMAMaps > 0 && UInt64(caps.maxDMAMaps) <= Capabilities.maxAcceptedDMAMaps,
      "max_dma_maps out of range")
    checkRoundTrip(caps, &report)
    checkNegotiation(proposal, &report)
    return report
  }

  /// What we encode, we decode to the same values (migration is never sent).
  private static func checkRoundTrip(_ caps: Capabilities, _ report: inout FuzzReport) {
    var expected = caps
    expected.migration = false
    let encoded = CapabilitiesJSON.encode(expected)
    do {
      let decoded = try CapabilitiesJSON.decode(encoded[...])
      report.require(decoded == expected, "round trip changed \(expected) into \(decoded)")
    } catch {
      report.require(false, "own encoding refused: \(error)")
    }
  }

  /// The reply offers a subset of the proposal within the server's limits.
  private static func checkNegotiation(_ proposal: VersionMessage, _ report: inout FuzzReport) {
    let server = ServerOptions().capabilities
    do {
      let (reply, agreed) = try VersionNegotiation.negotiate(proposal: proposal, server: server)
      report.count("negotiated")
      let offered = reply.capabilities
      report.require(reply.major == 0 && reply.minor <= proposal.minor, "version not min'd")
      report.require(offered.pageSizes & ~proposal.capabilities.pageSizes == 0, "pgsizes grew")
      report.require(offered.maxDMAMaps <= proposal.capabilities.maxDMAMaps, "max_dma_maps grew")
      report.require(
        !offered.writeMultiple || proposal.capabilities.writeMultiple, "write_multiple invented")
      report.require(
        offered.maxMessageFDs <= server.maxMessageFDs
          && offered.maxDataTransferSize <= server.maxDataTransferSize, "reply beyond our limits")
      report.require(agreed.maxDMAMaps >= 1, "no DMA map allowed")
      let replyPayload = reply.encoded
      let reparsed = try VersionMessage(payload: replyPayload)
      report.require(reparsed == reply, "reply does not parse back")
    } catch {
      report.require(error.code > 0, "negotiation failed with errno \(error.code)")
      report.count("rejected")
    }
  }
}
