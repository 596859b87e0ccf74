import Foundation
import Glibc
import NVMeHostDriver
import TestSupport
import Testing

/// Who may use the server: its socket's mode, the peers it admits (SO_PEERCRED), and
/// the user it becomes with --user. Needs root (to be another user), as the suite has.
@Suite(.enabled(if: getuid() == 0, "needs root to act as another user"))
struct PrivilegeTests {
  static let nobody: UInt32 = 65534

  /// A scratch directory others may enter, so another uid reaches the socket in it.
  static func openScratch(_ label: String) throws -> TemporaryDirectory {
    let scratch = try TemporaryDirectory(label)
    chmod(scratch.path, 0o755)
    return scratch
  }

  /// `executable arguments` run as nobody (setpriv from util-linux): its exit status.
  static func runAsNobody(
    _ executable: String, _ arguments: [String], in scratch: TemporaryDirectory
  )
    throws -> ChildProcess.Exit?
  {
    let setpriv = try #require(ChildProcess.systemTool("setpriv"), "util-linux's setpriv")
    let child = try ChildProcess(
      setpriv,
      ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", executable] + arguments,
      output: .file(scratch.file("nobody.log")))
    let exit = child.waitForExit(timeoutSeconds: 20)
    if exit == nil { child.signal(SIGKILL) }
    return exit
  }

  static func fileMode(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return (status.st_mode & 0o777, status.st_uid, status.st_gid)
  }

  @Test func theSocketIs0600UnlessToldOtherwise() throws {
    let scratch = try Self.openScratch("socket-mode")
    let server = try ServerProcess(in: scratch, backings: ["mem:16M"])
    #expect(Self.fileMode(server.socket)?.mode == 0o600)
    let wider = try ServerProcess(
      in: try Self.openScratch("socket-mode-660"), backings: ["mem:16M"],
      arguments: ["--socket-mode", "0660"])
    #expect(Self.fileMode(wider.socket)?.mode == 0o660)
  }

  /// A peer of another uid that can reach the socket (mode 0666 here) is closed before
  /// it reads a byte, and the log says who; root, allowed by default, is still served.
  @Test func aPeerOfAnotherUIDIsRefused() throws {
    let scratch = try Self.openScratch("peer-refused")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:16M"], arguments: ["--socket-mode", "0666"])
    let bench = try BuiltBinaries.path("nvme-vfu-bench")
    #expect(
      try Self.runAsNobody(bench, ["identify", "--socket", server.socket], in: scratch)
        == .exited(1))
    #expect(server.log.contains("refused a client: uid \(Self.nobody) (pid "), "\(server.log)")
    #expect(!server.log.contains("client connected"), "no device state for the refused peer")
    let host = try NVMeHost.connect(path: server.socket, configuration: .init())
    #expect(try host.identifyNamespace(1).nsze == (16 << 20) / 512)
  }

  @Test func allowUIDAdmitsThatUser() throws {
    let scratch = try Self.openScratch("peer-allowed")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:16M"],
      arguments: ["--socket-mode", "0666", "--allow-uid", "nobody"])
    let bench = try BuiltBinaries.path("nvme-vfu-bench")
    #expect(
      try Self.runAsNobody(bench, ["identify", "--socket", server.socket], in: scratch)
        == .exited(0))
    #expect(server.log.contains("client connected"))
  }

  /// The control socket follows the same rule.
  @Test func theControlSocketRefusesAnotherUIDToo() throws {
    let scratch = try Self.openScratch("control-refused")
    let control = scratch.file("control")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:16M"], arguments: ["--control", control])
    chmod(control, 0o666)  // reachable, so the peer check is what refuses
    let ctl = try BuiltBinaries.path("nvme-vfu-ctl")
    #expect(
      try Self.runAsNobody(ctl, ["--control", control, "get_stats"], in: scratch) == .exited(1))
    #expect(
      server.log.contains("control socket: refused a client: uid \(Self.nobody)"), "\(server.log)")
  }

  /// Started as root with --user nobody: after set-up every uid and gid is nobody's,
  /// the socket is nobody's, and the server still serves.
  @Test func userDropsRootAfterSetUp() throws {
    let scratch = try Self.openScratch("run-as-nobody")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:16M"], arguments: ["--user", "nobody"])
    let status = try String(contentsOfFile: "/proc/\(server.pid)/status", encoding: .utf8)
    let ids = { (key: String) in
      status.split(separator: "\n").first { $0.hasPrefix("\(key):") }
        .map { $0.split(separator: "\t").dropFirst().map(String.init) } ?? []
    }
    #expect(ids("Uid") == Array(repeating: "\(Self.nobody)", count: 4), "\(status)")
    #expect(ids("Gid") == Array(repeating: "65534", count: 4), "\(status)")
    #expect(ids("Groups") == ["65534"] || ids("Groups") == ["65534 "], "\(ids("Groups"))")
    #expect(Self.fileMode(server.socket)?.uid == Self.nobody)
    #expect(server.log.contains("running as nobody (uid 65534, gid 65534)"), "\(server.log)")
    // Root may still connect (allowed by default); nobody too now, being the server's uid.
    let host = try NVMeHost.connect(path: server.socket, configuration: .init())
    #expect(try host.identifyNamespace(1).nsze == (16 << 20) / 512)
  }

  @Test func rootWithoutUserWarnsOnce() throws {
    let scratch = try Self.openScratch("root-warning")
    let server = try ServerProcess(in: scratch, backings: ["mem:16M"])
    let warnings = server.log.split(separator: "\n").filter { $0.contains("running as root") }
    #expect(warnings.count == 1, "\(server.log)")
  }
}
