import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

extension NVMeVFUTests {
  /// The built `nvme-vfu-bench` against the built `nvme-vfu-server`, both
  /// as processes: what a user sees when the server dies under it, when
  /// they press Ctrl-C, and when the namespace refuses its writes.
  @Suite struct BenchProcess {
    /// A bench run: its process and where its stdout and stderr go.
    final class Bench {
      let process: ChildProcess
      let stdoutPath: String
      let stderrPath: String

      init(_ arguments: [String], in scratch: TemporaryDirectory) throws {
        stdoutPath = "\(scratch.path)/bench.out"
        stderrPath = "\(scratch.path)/bench.err"
        process = try ChildProcess(
          try BuiltBinaries.path("nvme-vfu-bench"), arguments,
          output: .files(stdout: stdoutPath, stderr: stderrPath))
      }

      var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
      var stderrLines: [Substring] {
        ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
          .split(separator: "\n", omittingEmptySubsequences: false).dropLast()
          .map { $0 }
      }
    }

    /// Waits until the bench has attached (the server maps its guest RAM),
    /// then lets I/O run a moment.
    static func waitUntilRunning(_ bench: Bench, on server: ServerProcess) throws {
      let attached = ProcessProbe.eventually(seconds: 20) {
        server.mappings(containing: "nvme-vfu-bench-ram") > 0 || !bench.process.isRunning
      }
      try #require(attached && bench.process.isRunning, "the bench attached: \(bench.stderrLines)")
      usleep(300_000)
    }

    static func perf(_ server: ServerProcess, _ extra: [String]) -> [String] {
      ["perf", "--socket", server.socket, "--size", "16M", "--ramp", "0", "--iodepth", "8"]
        + extra
    }

    /// A server that accepts the connection but never answers holds the attach for
    /// the 10 s reply timeout; Ctrl-C then ends the bench at once, as a signal (nothing
    /// was measured, so there is no summary to print).
    @Test func sigintWhileAttachingEndsTheBenchAtOnce() throws {
      let scratch = try TemporaryDirectory("bench-attach-sigint")
      let socket = scratch.file("silent.sock")
      let silent = try UnixSocket.listen(path: socket)
      defer { silent.close() }
      let bench = try Bench(["perf", "--socket", socket, "--runtime", "5s"], in: scratch)
      usleep(500_000)
      #expect(bench.process.isRunning, "still waiting for the VERSION reply")
      let sent = Date()
      bench.process.signal(SIGINT)
      let exit = bench.process.waitForExit(timeoutSeconds: 5)
      if exit == nil { bench.process.signal(SIGKILL) }
      #expect(exit == .signaled(SIGINT))
      #expect(Date().timeIntervalSince(sent) < 3, "not held for the reply timeout")
    }

    /// Polling (the host spins on its own memory) and sleeping on MSI-X
    /// eventfds alike.
    @Test(arguments: ["poll", "interrupt"])
    func aServerKilledUnderTheBenchEndsItWithOneLine(completion: String) throws {
      let scratch = try TemporaryDirectory("bench-dead-server")
      let server = try ServerProcess(in: scratch, backings: ["mem:64M"])
      let bench = try Bench(
        Self.perf(server, ["--runtime", "60s", "--completion", completion]), in: scratch)
      try Self.waitUntilRunning(bench, on: server)
      let killed = Date()
      server.kill()
      // Generous: the bench looks every 50 ms; without looking it would
      // run its 60 s.
      let exit = bench.process.waitForExit(timeoutSeconds: 5)
      let seconds = Date().timeIntervalSince(killed)
      if exit == nil { bench.process.signal(SIGKILL) }
      #expect(exit == .exited(1), "ended \(seconds) s after the server was killed")
      #expect(
        bench.stderrLines == [
          "nvme-vfu-bench: the server closed the vfio-user connection (socket hang-up)"
        ])
      #expect(bench.stdout.isEmpty, "no figures: \(bench.stdout)")
    }

    @Test func sigintPrintsThePartialSummaryAndExits130() throws {
      let scratch = try TemporaryDirectory("bench-sigint")
      let server = try ServerProcess(in: scratch, backings: ["mem:64M"])
      let bench = try Bench(Self.perf(server, ["--runtime", "60s", "--rw", "randrw"]), in: scratch)
      try Self.waitUntilRunning(bench, on: server)
      bench.process.signal(SIGINT)
      let exit = bench.process.waitForExit(timeoutSeconds: 10)
      if exit == nil { bench.process.signal(SIGKILL) }
      #expect(exit == .exited(130))
      let lines = bench.stdout.split(separator: "\n")
      #expect(lines.first == "interrupted by SIGINT: partial results", "\(bench.stdout)")
      #expect(lines.contains { $0.hasPrefix("  read: IOPS=") })
      #expect(lines.contains { $0.hasPrefix("  write: IOPS=") })
      let total = lines.first { $0.hasPrefix("  total: ") }
      #expect(total?.contains(", errors=0") == true)
      #expect(total?.contains("ios=0,") == false, "something was measured: \(total ?? "")")
      #expect(bench.stderrLines.isEmpty, "\(bench.stderrLines)")
      #expect(server.process.isRunning)
    }

    @Test func sigtermPrintsTheJSONSummaryAndExits143() throws {
      let scratch = try TemporaryDirectory("bench-sigterm")
      let server = try ServerProcess(in: scratch, backings: ["mem:64M"])
      let bench = try Bench(
        Self.perf(server, ["--runtime", "60s", "--output-format", "json"]), in: scratch)
      try Self.waitUntilRunning(bench, on: server)
      bench.process.signal(SIGTERM)
      let exit = bench.process.waitForExit(timeoutSeconds: 10)
      if exit == nil { bench.process.signal(SIGKILL) }
      #expect(exit == .exited(143))
      let object = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8))
      let report = try #require(object as? [String: Any])
      let flat = try #require(report["nvme-vfu"] as? [String: Any])
      #expect(flat["interrupted_by"] as? String == "SIGTERM")
      let jobs = try #require(report["jobs"] as? [[String: Any]])
      let read = try #require(jobs.first?["read"] as? [String: Any])
      #expect((read["total_ios"] as? Int ?? 0) > 0)
    }

    @Test func aMissingSocketIsOneLineNamingIt() throws {
      let scratch = try TemporaryDirectory("bench-no-server")
      let socket = "\(scratch.path)/none.sock"
      let binary = try BuiltBinaries.path("nvme-vfu-bench")
      for command in ["perf", "identify", "smart-log", "error-log"] {
        let run = try ChildProcess.run(binary, [command, "--socket", socket])
        #expect(run.exit == .exited(1), "\(command)")
        #expect(
          run.output
            == "nvme-vfu-bench: cannot attach to the server at \(socket): No such file or directory\n",
          "\(command)")
      }
    }

    @Test func writesToAReadOnlyNamespaceReportTheErrorAndNoFigures() throws {
      let scratch = try TemporaryDirectory("bench-readonly")
      let server = try ServerProcess(in: scratch, backings: ["mem:16M"], arguments: ["--readonly"])
      let bench = try Bench(
        Self.perf(server, ["--runtime", "5s", "--rw", "randwrite"]), in: scratch)
      let exit = bench.process.waitForExit(timeoutSeconds: 20)
      if exit == nil { bench.process.signal(SIGKILL) }
      #expect(exit == .exited(1))
      #expect(bench.stdout.isEmpty, "no IOPS for a failed run: \(bench.stdout)")
      let lines = bench.stderrLines
      #expect(lines.count == 1, "\(lines)")
      #expect(lines.first?.hasPrefix("nvme-vfu-bench: I/O error: write of LBA ") == true)
      #expect(lines.first?.hasSuffix(": Namespace is Write Protected (0x20)") == true)

      // --verify on reads must write its pattern first: refused, so the run
      // ends there (not after its 60 s of reads).
      let verify = try Bench(
        Self.perf(server, ["--runtime", "60s", "--rw", "randread", "--verify"]), in: scratch)
      let verifyExit = verify.process.waitForExit(timeoutSeconds: 10)
      if verifyExit == nil { verify.process.signal(SIGKILL) }
      #expect(verifyExit == .exited(1))
      #expect(verify.stdout.isEmpty)
      #expect(
        verify.stderrLines.map { $0.contains("writing the verify pattern first") } == [true],
        "\(verify.stderrLines)")

      // The refusals are in the log pages, as nvme-cli would show them.
      let binary = try BuiltBinaries.path("nvme-vfu-bench")
      let errors = try ChildProcess.run(binary, ["error-log", "--socket", server.socket])
      #expect(errors.exit == .exited(0))
      #expect(
        errors.output.contains("status_field     : 0x4020(Namespace is Write Protected (0x20))"))
      #expect(errors.output.contains("\nsqid             : 1\n"))
      let smart = try ChildProcess.run(binary, ["smart-log", "--socket", server.socket])
      #expect(smart.exit == .exited(0))
      #expect(smart.output.contains("\ncritical_warning "))
      let entries = smart.output.split(separator: "\n").first {
        $0.hasPrefix("num_err_log_entries")
      }
      #expect(entries.map { !$0.hasSuffix(": 0") } == true, "\(smart.output)")
    }
  }
}
