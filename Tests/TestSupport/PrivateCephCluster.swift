import Foundation

/// A Ceph cluster of a test's own, started with Tests/ceph/cluster.sh on ports
/// apart from the shared one CEPH_CONF names (`portBase` .. +199), for tests that
/// freeze or stop it. `stop()` removes it; so does a failed start.
public final class PrivateCephCluster {
  public struct Failed: Error, CustomStringConvertible {
    public var description: String
  }

  static let script = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ceph/cluster.sh").path

  public let directory: String
  public private(set) var conf = ""
  let portBase: Int

  /// Starts it in /tmp (about 8 s); `conf` is its ceph.conf.
  public init(name: String, portBase: Int) throws {
    directory = "/tmp/\(name)-\(getpid())"
    self.portBase = portBase
    do {
      conf = try run("start")
    } catch {
      stop()
      throw error
    }
  }

  /// Freezes both daemons: to clients the cluster is gone, its objects kept.
  public func pause() throws { try run("pause") }

  public func resume() throws { try run("resume") }

  public func stop() { _ = try? run("stop") }

  @discardableResult
  private func run(_ verb: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [Self.script, verb, directory]
    var environment = ProcessInfo.processInfo.environment
    environment["CEPH_TEST_MON_V2_PORT"] = "\(portBase)"
    environment["CEPH_TEST_MON_V1_PORT"] = "\(portBase + 1)"
    environment["CEPH_TEST_OSD_PORT_MIN"] = "\(portBase + 100)"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failed(description: "cluster.sh \(verb) \(directory) failed")
    }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
