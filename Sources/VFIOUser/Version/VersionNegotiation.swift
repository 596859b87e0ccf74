import POSIX

/// VFIO_USER_VERSION payload: major, minor, optional JSON.
public struct VersionMessage: Equatable, Sendable {
  public var major: UInt16
  public var minor: UInt16
  public var capabilities: Capabilities

  public init(major: UInt16, minor: UInt16, capabilities: Capabilities) {
    self.major = major
    self.minor = minor
    self.capabilities = capabilities
  }

  public init(payload: [UInt8]) throws(Errno) {
    var reader = WireReader(payload)
    major = try reader.read()
    minor = try reader.read()
    capabilities = try CapabilitiesJSON.decode(reader.rest())
  }

  public var encoded: [UInt8] {
    var writer = WireWriter()
    writer.write(major)
    writer.write(minor)
    writer.append(CapabilitiesJSON.encode(capabilities))
    return writer.bytes
  }
}

/// What both sides agreed on; the server enforces it for the rest of the session.
public struct Negotiated: Equatable, Sendable {
  public var minor: UInt16
  /// Limits on what the client may send us (ours) and what we may send it (theirs).
  public var ours: Capabilities
  public var peer: Capabilities

  /// DMA maps allowed at once: the smaller of both sides' limits.
  public var maxDMAMaps: Int { Int(min(ours.maxDMAMaps, peer.maxDMAMaps)) }
  public var writeMultiple: Bool { ours.writeMultiple && peer.writeMultiple }
}

public enum VersionNegotiation {
  public static let major: UInt16 = 0
  public static let maxMinor: UInt16 = 1

  /// Applies the spec's rules to a client proposal: same major, minor min'd, and a
  /// capability set that is a subset of what was proposed. Returns the reply and the
  /// agreement. Throws ENOTSUP for another major and EINVAL for page sizes without 4 KiB.
  public static func negotiate(proposal: VersionMessage, server: Capabilities) throws(Errno)
    -> (reply: VersionMessage, agreed: Negotiated)
  {
    guard proposal.major == major else { throw .notSupported }
    guard proposal.capabilities.pageSizes & server.pageSizes != 0 else { throw .invalidArgument }
    var offered = server
    offered.pageSizes = server.pageSizes & proposal.capabilities.pageSizes
    offered.maxDMAMaps = min(server.maxDMAMaps, proposal.capabilities.maxDMAMaps)
    offered.writeMultiple = server.writeMultiple && proposal.capabilities.writeMultiple
    offered.migration = false
    let minor = min(proposal.minor, maxMinor)
    let reply = VersionMessage(major: major, minor: minor, capabilities: offered)
    return (reply, Negotiated(minor: minor, ours: offered, peer: proposal.capabilities))
  }
}
