import Foundation
import Glibc
import NVMeHostDriver
import TestSupport
import Testing

/// The serving state's seccomp allowlist, on by default.
@Suite struct SandboxTests {
  static func status(_ pid: pid_t, _ key: String) -> String? {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix("\(key):") }
      .map { $0.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
  }

  /// Seccomp 2 is filter mode; no_new_privs, which it requires, is set with it.
  @Test func theDefaultServerIsFilteredWithNoNewPrivileges() throws {
    let scratch = try TemporaryDirectory("sandbox-on")
    let server = try ServerProcess(in: scratch, backings: ["mem:16M"])
    #expect(Self.status(server.pid, "Seccomp") == "2")
    #expect(Self.status(server.pid, "NoNewPrivs") == "1")
    // It serves under the filter: I/O, then a clean stop (flush, unlink, exit).
    let host = try NVMeHost.connect(path: server.socket, configuration: .init())
    #expect(try host.identifyNamespace(1).nsze == (16 << 20) / 512)
    #expect(server.terminate() == .exited(0), "\(server.log)")
  }

  @Test func sandboxOffLeavesTheProcessUnfiltered() throws {
    let scratch = try TemporaryDirectory("sandbox-off")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:16M"], arguments: ["--sandbox", "off"])
    #expect(Self.status(server.pid, "Seccomp") == "0")
    #expect(server.log.contains("sandbox off"))
  }

  /// A syscall outside the allowlist (getpgrp, through a debug-build-only switch)
  /// kills the server with SIGSYS.
  @Test func aForbiddenSyscallKillsTheServerWithSIGSYS() throws {
    let scratch = try TemporaryDirectory("sandbox-sigsys")
    let server = try ChildProcess(
      try BuiltBinaries.path("nvme-vfu-server"),
      ["--socket", scratch.file("nvme.sock"), "--backing", "mem:16M"],
      output: .file(scratch.file("log")), environment: ["NVME_VFU_TEST_FORBIDDEN_SYSCALL": "1"])
    let exit = server.waitForExit(timeoutSeconds: 20)
    if exit == nil { server.signal(SIGKILL) }
    #expect(exit == .signaled(SIGSYS))
  }
}
