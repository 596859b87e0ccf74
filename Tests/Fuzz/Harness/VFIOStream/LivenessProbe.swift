import POSIX
import VFIOUser

/// After an input: a brand-new client must be served as if nothing had
/// happened (VERSION, DEVICE_GET_INFO, the PCI IDs in config space, and a
/// controller that was reset when the last client went: CSTS 0).
enum LivenessProbe {
  static func check(_ rig: StreamRig, _ report: inout FuzzReport) {
    guard let (ours, theirs) = try? UnixSocket.pair() else {
      report.require(false, "probe: no socket pair")
      return
    }
    do {
      try rig.server.attach(socket: theirs)
    } catch {
      ours.close()
      report.require(false, "probe: attach failed: \(error)")
      return
    }
    do {
      guard let connection = try? Connection(socket: ours, maxMessageSize: 1 << 16) else {
        ours.close()
        report.require(false, "probe: no connection")
        return
      }
      probe(connection, rig, &report)
    }
    // The probe's connection is gone: the server sees EOF and drops it.
    for _ in 0..<8 where rig.isConnected { rig.turn() }
    report.require(!rig.isConnected, "probe: server kept a closed client")
  }

  private static func probe(_ connection: Connection, _ rig: StreamRig, _ report: inout FuzzReport)
  {
    var caps = Capabilities()
    caps.maxMessageFDs = 16
    let version = ask(
      connection, rig, .version, VersionMessage(major: 0, minor: 1, capabilities: caps).encoded)
    report.require(
      version.flatMap { try? VersionMessage(payload: $0) }?.major == 0, "probe: VERSION failed")
    let info = ask(
      connection, rig, .deviceGetInfo, DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded)
    report.require(
      info.flatMap { try? DeviceInfo(payload: $0) }?.numRegions == 9,
      "probe: DEVICE_GET_INFO failed")
    let ids = ask(
      connection, rig, .regionRead, RegionAccess(offset: 0, region: 7, count: 4).encoded)
    report.require(
      ids?.suffix(4) == [0x56, 0x4E, 0x46, 0x56], "probe: PCI IDs wrong: \(String(describing: ids))"
    )
    let csts = ask(
      connection, rig, .regionRead, RegionAccess(offset: 0x1C, region: 0, count: 4).encoded)
    report.require(
      csts?.suffix(4) == [0, 0, 0, 0], "probe: CSTS not 0 after reset: \(String(describing: csts))")
  }

  /// One command, one turn, its reply's payload (nil for an error or none).
  private static func ask(
    _ connection: Connection, _ rig: StreamRig, _ command: Command, _ payload: [UInt8]
  ) -> [UInt8]? {
    guard let id = try? connection.sendCommand(command, payload: payload) else { return nil }
    rig.turn()
    guard var reply = try? connection.receive(timeoutMilliseconds: 100) else { return nil }
    reply.closeFDs()
    guard reply.header.id == id, reply.header.kind == .reply, !reply.header.isError else {
      return nil
    }
    return reply.payload
  }
}
