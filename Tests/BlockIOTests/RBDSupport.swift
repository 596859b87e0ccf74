import Foundation
import Glibc
import Testing

@testable import BlockIO

/// The Ceph cluster the RBD tests run against: the one `CEPH_CONF` names
/// (`Tests/ceph/cluster.sh start DIR` prints such a conf).
enum Ceph {
  /// The conf, or nil with a SKIP line saying why.
  static func conf(for test: String) -> String? {
    if let conf = ProcessInfo.processInfo.environment["CEPH_CONF"], !conf.isEmpty {
      return conf
    }
    print("SKIP: \(test): CEPH_CONF is not set (Tests/ceph/cluster.sh start DIR prints one)")
    return nil
  }

  struct CommandFailed: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs the `rbd` tool against the cluster; throws with its stderr when it fails.
  static func rbd(_ conf: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/rbd")
    process.arguments = ["--conf", conf, "--no-progress"] + arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let output = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let text = String(decoding: output, as: UTF8.self)
      throw CommandFailed(description: "rbd \(arguments.joined(separator: " ")): \(text)")
    }
  }
}

/// An image of its own for one test in pool `rbd`. Tests remove it with a
/// `defer` placed before opening it, so that it goes after the backend
/// closes (a deinit could run as soon as the image is last used).
final class TestImage {
  let conf: String
  let name: String
  let size: UInt64

  init(conf: String, size: UInt64 = 16 << 20) throws {
    self.conf = conf
    self.size = size
    name = "test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try Ceph.rbd(conf, ["create", "rbd/\(name)", "--size", "\(size >> 10)K"])
  }

  /// Removes the image with its snapshots.
  func remove() {
    try? Ceph.rbd(conf, ["snap", "purge", "rbd/\(name)"])
    try? Ceph.rbd(conf, ["rm", "rbd/\(name)"])
  }

  func spec(snap: String? = nil) -> RBDSpec {
    RBDSpec(pool: "rbd", image: name, conf: conf, snap: snap)
  }

  func open(readOnly: Bool = false, snap: String? = nil, queueDepth: Int = 64)
    throws(BlockIOError)
    -> RBDBackend
  {
    try RBDBackend(spec: spec(snap: snap), readOnly: readOnly, queueDepth: queueDepth)
  }

  func snapshot(_ snap: String) throws {
    try Ceph.rbd(conf, ["snap", "create", "rbd/\(name)@\(snap)"])
  }
}
