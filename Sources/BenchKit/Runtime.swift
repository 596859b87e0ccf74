import Glibc
import NVMeHostDriver
import POSIX

/// Process CPU time (getrusage RUSAGE_SELF), in seconds.
struct CPUTime {
  var user: Double
  var system: Double

  static func process() -> CPUTime {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return CPUTime(user: 0, system: 0) }
    return CPUTime(user: seconds(usage.ru_utime), system: seconds(usage.ru_stime))
  }

  static func - (a: CPUTime, b: CPUTime) -> CPUTime {
    CPUTime(user: a.user - b.user, system: a.system - b.system)
  }

  private static func seconds(_ value: timeval) -> Double {
    Double(value.tv_sec) + Double(value.tv_usec) / 1e6
  }
}

/// In interrupt mode, the loop sleeps on every queue's vector at once.
struct InterruptPollSet {
  private var set = PollSet()

  init(host: NVMeHost, queues: [NVMeQueue], enabled: Bool) {
    guard enabled, let vectors = host.vectors else { return }
    // Borrowed: the host's vectors outlive the run that polls them.
    for queue in queues { set.append(vectors.fds[queue.vector]) }
  }

  mutating func wait(timeoutMilliseconds: Int32) {
    guard !set.isEmpty else { return }
    _ = try? set.wait(timeout: .milliseconds(Int(timeoutMilliseconds)))
  }
}

/// The live line on a terminal, once a second.
final class Progress {
  private let enabled: Bool
  private let plan: PerfPlan
  private var nextTick: UInt64 = 0
  private var lastCompleted: UInt64 = 0
  private var lastTime: UInt64 = 0

  init(enabled: Bool, plan: PerfPlan) {
    self.enabled = enabled
    self.plan = plan
  }

  func tick(now: UInt64, start: UInt64, rampEnd: UInt64, completed: UInt64) {
    guard enabled, now >= nextTick else { return }
    if nextTick == 0 {
      nextTick = now &+ 1_000_000_000
      lastTime = now
      lastCompleted = completed
      return
    }
    nextTick = now &+ 1_000_000_000
    let interval = Double(now &- lastTime) / 1e9
    let iops = Double(completed &- lastCompleted) / max(interval, 1e-9)
    lastTime = now
    lastCompleted = completed
    let phase: String
    if now < rampEnd {
      phase = "ramp \(Int(Double(now &- start) / 1e9))/\(Int(plan.ramp))s"
    } else {
      phase = "run \(Int(Double(now &- rampEnd) / 1e9))/\(Int(plan.runtime))s"
    }
    let mib = iops * Double(plan.blockSize) / 1_048_576
    let line = "\r\u{1B}[K[\(phase)] \(Format.count(iops)) IOPS, \(Format.fixed(mib, 1)) MiB/s"
    _ = line.withCString { write(1, $0, strlen($0)) }
  }

  func finish() {
    guard enabled else { return }
    let clear = "\r\u{1B}[K"
    _ = clear.withCString { write(1, $0, strlen($0)) }
  }
}

/// Another process's CPU time from /proc/PID/stat (utime + stime), for the
/// server's cost per I/O; nil when the file cannot be read or parsed.
public enum ProcessCPU {
  public static func seconds(pid: Int32) -> Double? {
    let raw = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard raw >= 0 else { return nil }
    let fd = FileDescriptor(owning: raw)
    var buffer = [UInt8](repeating: 0, count: 1024)
    let count = buffer.withUnsafeMutableBytes { read(fd.rawValue, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    // The command name (field 2) may hold spaces: fields after the last ')'.
    guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
    let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    guard fields.count > 12, let user = UInt64(String(decoding: fields[11], as: UTF8.self)),
      let system = UInt64(String(decoding: fields[12], as: UTF8.self))
    else { return nil }
    let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
    return Double(user &+ system) / ticks
  }
}
