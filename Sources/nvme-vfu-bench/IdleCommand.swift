import ArgumentParser
import BenchKit
import Glibc
import NVMeHostDriver
import POSIX

/// `nvme-vfu-bench idle`: an attached host that does nothing, for measuring
/// what an idle guest costs the server.
struct IdleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "idle",
    abstract: "Connect, enable the controller, create I/O queues, then sleep.",
    discussion: """
      Stays connected for --seconds with the controller enabled and --queues
      I/O queue pairs created, submitting nothing; then resets the controller
      and disconnects. With --server-pid it prints the server's CPU seconds
      (utime + stime from /proc/PID/stat) over the sleep.
      """)

  @Option(help: "The server's UNIX socket.")
  var socket: String

  @Option(help: "How long to stay connected (10s, 500ms; a plain number is seconds).")
  var seconds = SecondsOption(10)

  @Option(help: "I/O queue pairs to create.")
  var queues: Int = 1

  @Option(name: .customLong("server-pid"), help: "Report this process's CPU over the sleep.")
  var serverPID: Int32?

  func validate() throws {
    guard seconds.seconds <= 86400 else { throw ValidationError("--seconds must be at most 1 day") }
    guard (1...511).contains(queues) else { throw ValidationError("--queues must be 1-511") }
  }

  func run() throws {
    let host: NVMeHost
    do {
      var configuration = NVMeHost.Configuration()
      configuration.completionMode = .interrupt
      configuration.ramSize = 4 << 20
      configuration.ramName = "nvme-vfu-bench-idle"
      host = try attachHost(path: socket, configuration: configuration)
      try host.createIOQueues(count: queues, entries: 64)
    } catch {
      fail("\(error)", code: 1)
    }
    let before = serverPID.flatMap { ProcessCPU.seconds(pid: $0) }
    let start = MonotonicClock.nanoseconds()
    // `seconds` is validated to 0-86400, so the product fits.
    MonotonicClock.sleep(untilNanoseconds: start &+ UInt64(seconds.seconds * 1e9))
    let elapsed = Double(MonotonicClock.nanoseconds() &- start) / 1e9
    if let serverPID, let before, let after = ProcessCPU.seconds(pid: serverPID) {
      let cpu = after - before
      print(
        "{\"seconds\":\(Format.fixed(elapsed, 3)),\"server_cpu_s\":\(Format.fixed(cpu, 3)),"
          + "\"server_cpu_percent\":\(Format.fixed(cpu / max(elapsed, 1e-9) * 100, 2))}")
    }
    _ = try? host.resetController()
  }
}
