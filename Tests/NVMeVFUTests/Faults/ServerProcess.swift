import Foundation
import Glibc
import NVMeHostDriver
import TestSupport
import Testing

/// The package's executables, built with the tests (this target depends on
/// them): SwiftPM puts them next to the test binary. NVME_VFU_BIN_DIR
/// overrides the directory.
enum BuiltBinaries {
  static let directory: String = {
    if let directory = ProcessInfo.processInfo.environment["NVME_VFU_BIN_DIR"] {
      return directory
    }
    let executable =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: executable).deletingLastPathComponent().path
  }()

  static func path(_ name: String) throws -> String {
    let path = "\(directory)/\(name)"
    guard access(path, X_OK) == 0 else {
      throw ChildProcess.SpawnError(
        description: "\(path) is missing: build the package (swift build) or set NVME_VFU_BIN_DIR")
    }
    return path
  }
}

/// The real `nvme-vfu-server` binary as a child process, listening at
/// `socket`, with what /proc says about it.
final class ServerProcess {
  let socket: String
  let logPath: String
  let process: ChildProcess
  /// Holds the socket and the log: kept as long as the server.
  private let scratch: TemporaryDirectory

  var pid: pid_t { process.pid }

  /// Starts the server on `backings`, its socket and log in `scratch`, and
  /// waits until it listens and has logged "serving": set-up is over (the
  /// socket is bound earlier, so a listening socket alone does not mean the
  /// user was dropped, the sandbox loaded or set-up's descriptors closed, and
  /// tests count those descriptors).
  init(in scratch: TemporaryDirectory, backings: [String], arguments: [String] = []) throws {
    self.scratch = scratch
    socket = "\(scratch.path)/nvme.sock"
    logPath = "\(scratch.path)/server.log"
    process = try ChildProcess(
      try BuiltBinaries.path("nvme-vfu-server"),
      ["--socket", socket] + backings.flatMap { ["--backing", $0] } + arguments,
      output: .file(logPath))
    let deadline = Date().addingTimeInterval(20)
    while !(Self.isListening(socket) && log.contains("serving ")) {
      guard process.isRunning, Date() < deadline else {
        process.signal(SIGKILL)
        process.waitForExit()
        throw ChildProcess.SpawnError(
          description:
            "nvme-vfu-server did not start (\(process.exit.map { "\($0)" } ?? "timeout")): \(log)")
      }
      usleep(2000)
    }
  }

  deinit {
    process.signal(SIGKILL)
    process.waitForExit()
  }

  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  /// A host attached like a guest: negotiated, controller enabled, identified.
  func host(_ configure: (inout NVMeHost.Configuration) -> Void = { _ in }) throws -> NVMeHost {
    var configuration = NVMeHost.Configuration()
    configuration.ramSize = 8 << 20
    configure(&configuration)
    return try NVMeHost.connect(path: socket, configuration: configuration)
  }

  /// SIGKILL, then reap; how it ended.
  @discardableResult
  func kill() -> ChildProcess.Exit? {
    process.signal(SIGKILL)
    return process.waitForExit()
  }

  /// SIGTERM (finish in-flight I/O, flush, exit), then reap.
  func terminate(timeoutSeconds: Double = 20) -> ChildProcess.Exit? {
    process.signal(SIGTERM)
    return process.waitForExit(timeoutSeconds: timeoutSeconds)
  }

  // MARK: /proc/PID

  /// Open descriptors.
  var descriptorCount: Int { descriptorTargets.count }

  /// Descriptors whose target contains `name` (a memfd's name, "eventfd").
  func descriptors(containing name: String) -> Int {
    descriptorTargets.filter { $0.contains(name) }.count
  }

  var descriptorTargets: [String] {
    let directory = "/proc/\(pid)/fd"
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return entries.compactMap {
      try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")
    }
  }

  /// Lines of /proc/PID/maps (mapped regions).
  var mappingCount: Int { maps.count }

  /// Mapped regions whose line contains `name`.
  func mappings(containing name: String) -> Int { maps.filter { $0.contains(name) }.count }

  private var maps: [Substring] {
    ProcessProbe.contents(of: "/proc/\(pid)/maps").split(separator: "\n")
  }

  /// VmRSS in KiB (0 when unreadable).
  var residentKiB: Int {
    let status = ProcessProbe.contents(of: "/proc/\(pid)/status")
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
    return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
  }

  /// Whether a socket bound to `path` is listening (/proc/net/unix, flag
  /// __SO_ACCEPTCON), without connecting to it.
  static func isListening(_ path: String) -> Bool {
    ProcessProbe.contents(of: "/proc/net/unix").split(separator: "\n").contains { line in
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      return fields.count >= 8 && fields[7] == path && fields[3] == "00010000"
    }
  }
}
