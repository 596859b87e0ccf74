import Foundation
import Glibc
import NVMeHostDriver
import POSIX
import TestSupport
import Testing
import VFIOUserClient

/// Errors a user must fix: one line on stderr naming what is wrong, exit 64 for a
/// command line the server refuses, 1 for what it finds when it starts.
@Suite struct ServerErrorTests {
  static let name = "nvme-vfu-server"

  /// Runs the built server with `arguments`; its exit and stderr (stdout apart).
  static func run(_ arguments: [String], in scratch: TemporaryDirectory) throws -> (
    exit: ChildProcess.Exit?, stderr: String
  ) {
    let child = try ChildProcess(
      try BuiltBinaries.path(name), arguments,
      output: .files(stdout: scratch.file("stdout"), stderr: scratch.file("stderr")))
    let exit = child.waitForExit(timeoutSeconds: 20)
    if exit == nil { child.signal(SIGKILL) }
    return (exit, (try? String(contentsOfFile: scratch.file("stderr"), encoding: .utf8)) ?? "")
  }

  @Test(arguments: [
    (
      ["--size", "-1G", "--socket", "s", "--backing", "a.img"],
      "size '-1G': must be positive, such as 4K or 1G"
    ),
    (
      ["--socket", "s", "--backing", "foo:1G"],
      "backing 'foo:1G': unknown scheme 'foo:' (expected file:PATH, mem:SIZE, null:SIZE, rbd:POOL/IMAGE or a path; a file so named is file:foo:1G or ./foo:1G)"
    ),
    (["--socket", "s", "--backing", "mem:1M", "--bogus"], "Unknown option '--bogus'"),
    (["--socket"], "Missing value for '--socket <socket>'"),
    (["--socket", "s", "--io-queues", "-1"], "--io-queues must be 1-511, not -1"),
    (["--socket", "s", "--block-size", "7"], "--block-size must be 512 or 4096, not 7"),
    (["--socket", "s", "--log-format", "xml"], "--log-format must be text or json"),
    (["--socket", "s", "--fd", "3"], "give only one of --socket, --socket-path or --fd"),
  ])
  func usageErrorsAreOneLineAndExit64(arguments: [String], message: String) throws {
    let scratch = try TemporaryDirectory("usage")
    let (exit, stderr) = try Self.run(arguments, in: scratch)
    #expect(exit == .exited(64))
    #expect(stderr == "\(Self.name): \(message) (see \(Self.name) --help)\n")
  }

  @Test func aSocketInAMissingDirectorySaysTheDirectoryIsMissing() throws {
    let scratch = try TemporaryDirectory("missing-dir")
    let socket = scratch.file("absent/nvme.sock")
    let (exit, stderr) = try Self.run(["--socket", socket, "--backing", "mem:1M"], in: scratch)
    #expect(exit == .exited(1))
    #expect(
      stderr
        == "\(Self.name): \(socket): cannot create the socket: directory \(scratch.file("absent")) does not exist\n"
    )
  }

  @Test func theSameImageTwiceNamesBothNamespaces() throws {
    let scratch = try TemporaryDirectory("same-image")
    let image = scratch.file("disk.img")
    #expect(FileManager.default.createFile(atPath: image, contents: Data(count: 1 << 20)))
    // The second spelling reaches the same file by another path.
    let other = scratch.path + "/./disk.img"
    let (exit, stderr) = try Self.run(
      ["--socket", scratch.file("s"), "--backing", image, "--backing", other], in: scratch)
    #expect(exit == .exited(1))
    #expect(
      stderr
        == "\(Self.name): \(other): namespaces 1 and 2 name the same image as \(image); give each namespace its own\n"
    )
  }

  @Test func noBackingIsOneLineExit1() throws {
    let scratch = try TemporaryDirectory("no-backing")
    let (exit, stderr) = try Self.run(["--socket", scratch.file("s")], in: scratch)
    #expect(exit == .exited(1))
    #expect(
      stderr == "\(Self.name): give at least one --backing (or \"namespaces\" in --config)\n")
  }

  /// The built server on mem:16M at `socket`, listening.
  static func serve(_ socket: String, log: String) throws -> ChildProcess {
    let server = try ChildProcess(
      try BuiltBinaries.path(name), ["--socket", socket, "--backing", "mem:16M"],
      output: .file(log))
    try LogFormatTests.waitForSocket(socket)
    return server
  }

  /// A second client while one is served is logged, waits, and after the 2 s grace
  /// period its VERSION is refused with EBUSY; the first is served throughout.
  @Test func aSecondClientIsRefusedAfterTheGracePeriod() throws {
    let scratch = try TemporaryDirectory("second-client")
    let socket = scratch.file("nvme.sock")
    let server = try Self.serve(socket, log: scratch.file("log"))
    defer { server.stop() }
    let first = try NVMeHost.connect(path: socket, configuration: .init())
    let started = Date()
    let second = try VFIOUserClient(path: socket)
    #expect(throws: Errno(EBUSY)) { try second.negotiate() }
    let waited = Date().timeIntervalSince(started)
    #expect(waited >= 1.5 && waited < 10, "refused after \(waited) s")
    #expect(try first.identifyNamespace(1).nsze == (16 << 20) / 512, "the first is still served")
    let log = (try? String(contentsOfFile: scratch.file("log"), encoding: .utf8)) ?? ""
    #expect(log.contains("another client connected while one is served"), "\(log)")
    #expect(log.contains("refused a client: another client is served"), "\(log)")
  }

  /// A client that connects while one is served is served as soon as the first leaves
  /// within the grace period (a VMM reconnecting).
  @Test func aWaitingClientIsServedWhenTheFirstLeaves() throws {
    let scratch = try TemporaryDirectory("handover")
    let socket = scratch.file("nvme.sock")
    let server = try Self.serve(socket, log: scratch.file("log"))
    defer { server.stop() }
    var first: NVMeHost? = try NVMeHost.connect(path: socket, configuration: .init())
    let second = try VFIOUserClient(path: socket)
    usleep(300_000)
    #expect(try first?.identifyNamespace(1).nsze == (16 << 20) / 512)
    first = nil  // closes its socket: the server drops it and serves the waiting one
    #expect(try second.negotiate().major == 0)
    let log = (try? String(contentsOfFile: scratch.file("log"), encoding: .utf8)) ?? ""
    #expect(log.contains("serving the client that waited"), "\(log)")
  }
}

extension ChildProcess {
  /// SIGTERM, and reap within 20 s.
  fileprivate func stop() {
    signal(SIGTERM)
    _ = waitForExit(timeoutSeconds: 20)
  }
}
