import BuildInfo
import Foundation
import Glibc
import NVMeHostDriver
import NVMeVFU
import POSIX
import TestSupport
import Testing

/// What systemd sees of the server: READY=1 and STOPPING=1 on NOTIFY_SOCKET, a socket
/// passed by socket activation (LISTEN_FDS), and --version on every executable.
@Suite struct SystemdTests {
  /// A datagram socket standing in for systemd's notify socket.
  final class NotifyListener {
    let fd: FileDescriptor

    /// Bound at `path`, or at the abstract name `path` without its leading "@".
    init(path: String) throws {
      fd = FileDescriptor(owning: socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0))
      let address = try UnixSocketAddress(path, names: .abstractAllowed)
      let rc = address.withSockaddr { bind(fd.rawValue, $0, $1) }
      guard rc == 0 else { throw Errno.current }
    }

    deinit { fd.close() }

    /// The next datagram's VAR=VALUE lines, or nil after `timeoutSeconds`.
    func next(timeoutSeconds: Int32 = 20) -> [String: String]? {
      var poller = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
      guard poll(&poller, 1, timeoutSeconds * 1000) == 1 else { return nil }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let count = recv(fd.rawValue, &buffer, buffer.count, 0)
      guard count > 0 else { return nil }
      var fields: [String: String] = [:]
      for line in String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1)
        fields[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
      }
      return fields
    }
  }

  @Test func serverSendsReadyOnceItListensAndStoppingOnSIGTERM() throws {
    let scratch = try TemporaryDirectory("notify")
    let listener = try NotifyListener(path: scratch.file("notify"))
    let socketPath = scratch.file("nvme.sock")
    let server = try ChildProcess(
      try BuiltBinaries.path("nvme-vfu-server"),
      ["--socket", socketPath, "--backing", "mem:16M"], output: .file(scratch.file("log")),
      environment: ["NOTIFY_SOCKET": scratch.file("notify")])
    let ready = try #require(listener.next(), "READY=1 within 20 s")
    #expect(ready["READY"] == "1")
    #expect(ready["MAINPID"] == String(server.pid))
    #expect(ready["STATUS"] == "serving 1 namespace(s)")
    // Ready means a VMM can connect now.
    do {
      let host = try NVMeHost.connect(path: socketPath, configuration: .init())
      #expect(try host.identifyController().sn.isEmpty == false)
    }
    server.signal(SIGTERM)
    let stopping = try #require(listener.next(), "STOPPING=1 after SIGTERM")
    #expect(stopping["STOPPING"] == "1")
    #expect(server.waitForExit(timeoutSeconds: 20) == .exited(0))
  }

  @Test func notifyReachesAnAbstractSocket() throws {
    let name = "@nvme-vfu-notify-test-\(getpid())"
    let listener = try NotifyListener(path: name)
    try SystemdNotify(environment: ["NOTIFY_SOCKET": name]).ready(status: "serving 2 namespace(s)")
    let ready = try #require(listener.next(timeoutSeconds: 5))
    #expect(ready == ["READY": "1", "STATUS": "serving 2 namespace(s)", "MAINPID": "\(getpid())"])
  }

  @Test func anAtSignIsAbstractOnlyWhereAskedFor() throws {
    let header = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
    // "@ab": the NUL-less abstract name "\0ab", or the relative path "@ab" and its NUL.
    #expect(try UnixSocketAddress("@ab", names: .abstractAllowed).length == socklen_t(header + 3))
    #expect(try UnixSocketAddress("@ab").length == socklen_t(header + 4))
    #expect(throws: Errno.self) { try UnixSocketAddress("@", names: .abstractAllowed) }
    #expect(throws: Errno.self) { try UnixSocketAddress("") }
    #expect(throws: Errno.self) { try UnixSocketAddress(String(repeating: "a", count: 108)) }
    #expect(throws: Errno.self) { try UnixSocketAddress("a\u{0}b") }
  }

  @Test func notifyWithoutNotifySocketDoesNothing() throws {
    let notify = SystemdNotify(environment: ["NOTIFY_SOCKET": ""])
    #expect(notify.socketPath == nil)
    try notify.ready(status: "serving")
  }

  @Test func socketActivationTakesOnlyThisProcesssOneSocket() throws {
    let pid = getpid()
    #expect(try SocketActivation.takeDescriptor(environment: [:], pid: pid) == nil)
    #expect(
      try SocketActivation.takeDescriptor(
        environment: ["LISTEN_PID": "\(pid + 1)", "LISTEN_FDS": "1"], pid: pid) == nil,
      "another process's sockets")
    #expect(
      try SocketActivation.takeDescriptor(
        environment: ["LISTEN_PID": "\(pid)", "LISTEN_FDS": "1"], pid: pid) == 3)
    #expect(throws: ServerStartError.self) {
      try SocketActivation.takeDescriptor(
        environment: ["LISTEN_PID": "\(pid)", "LISTEN_FDS": "2"], pid: pid)
    }
  }

  /// systemd-socket-activate (from systemd) listens, and on the first connection runs
  /// the server with that socket as LISTEN_FDS: the server, given no --socket or --fd,
  /// serves it.
  @Test(.enabled(if: ChildProcess.systemTool("systemd-socket-activate") != nil))
  func serverServesTheSocketSystemdPasses() throws {
    let scratch = try TemporaryDirectory("activate")
    let socketPath = scratch.file("nvme.sock")
    let activator = try ChildProcess(
      try #require(ChildProcess.systemTool("systemd-socket-activate")),
      ["--listen", socketPath, try BuiltBinaries.path("nvme-vfu-server"), "--backing", "mem:16M"],
      output: .file(scratch.file("log")))
    let deadline = Date().addingTimeInterval(20)
    while access(socketPath, F_OK) != 0 && Date() < deadline { usleep(10_000) }
    do {
      let host = try NVMeHost.connect(path: socketPath, configuration: .init())
      let namespace = try host.identifyNamespace(1)
      #expect(namespace.nsze == (16 << 20) / 512, "the server systemd started answers")
    }
    activator.signal(SIGTERM)
    #expect(activator.waitForExit(timeoutSeconds: 20) == .exited(0))
    let log = (try? String(contentsOfFile: scratch.file("log"), encoding: .utf8)) ?? ""
    #expect(log.contains("serving 1 namespace(s)"), "\(log)")
  }

  /// A --socket given wins over systemd's sockets: LISTEN_FDS=2 for this very process
  /// (which alone would fail the start) is not looked at.
  @Test func aSocketFlagIgnoresSocketActivation() throws {
    let scratch = try TemporaryDirectory("flag-over-activation")
    let socketPath = scratch.file("nvme.sock")
    // exec keeps the shell's pid, so LISTEN_PID=$$ names the server.
    let server = try ChildProcess(
      "/bin/sh",
      [
        "-c", "LISTEN_PID=$$ LISTEN_FDS=2 exec \"$0\" --socket \"$1\" --backing mem:16M",
        try BuiltBinaries.path("nvme-vfu-server"), socketPath,
      ], output: .file(scratch.file("log")))
    let deadline = Date().addingTimeInterval(20)
    while access(socketPath, F_OK) != 0 && Date() < deadline { usleep(10_000) }
    do {
      let host = try NVMeHost.connect(path: socketPath, configuration: .init())
      #expect(try host.identifyNamespace(1).nsze == (16 << 20) / 512)
    }
    server.signal(SIGTERM)
    #expect(server.waitForExit(timeoutSeconds: 20) == .exited(0))
  }

  /// "0.26.0 (git 1a2b3c4d5e6f)": the package version, and the commit when built
  /// from a git checkout.
  @Test(arguments: ["nvme-vfu-server", "nvme-vfu-ctl", "nvme-vfu-bench"])
  func versionNamesThePackageVersionAndCommit(executable: String) throws {
    let (exit, output) = try ChildProcess.run(try BuiltBinaries.path(executable), ["--version"])
    #expect(exit == .exited(0))
    #expect(output == BuildInfo.versionLine + "\n")
    #expect(output.hasPrefix(BuildInfo.version))
    let pattern = #/^\d+\.\d+\.\d+( \(git [0-9a-f]{12}(, modified)?\))?\n$/#
    #expect(output.wholeMatch(of: pattern) != nil, "\(output)")
  }
}
