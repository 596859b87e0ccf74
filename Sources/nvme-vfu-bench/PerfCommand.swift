import ArgumentParser
import BenchKit
import CShims
import Glibc
import POSIX

/// `nvme-vfu-bench perf`: a fio-like load on one namespace.
struct PerfCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "perf",
    abstract: "Run an I/O load and report IOPS, bandwidth, latency and client CPU.",
    discussion: """
      One client thread drives every queue: --iodepth commands are kept in
      flight on each of --queues I/O queue pairs. Offsets are --bs aligned
      within the first --size bytes of the namespace (default: all of it).
      Latency is from just before the doorbell to the completion being seen,
      in an HDR histogram (3 significant digits).

      Reads and writes are reported apart (IOPS, bandwidth, latency min,
      max, mean, stdev and percentiles), then their total.

      --output-format json prints fio's JSON layout (jobs[0].read and
      jobs[0].write with io_bytes, bw_bytes, bw, iops, runtime, total_ios,
      clat_ns and lat_ns {min, max, mean, stddev, percentile}), so tools
      that read fio's JSON read it, and every figure of the bench as one
      flat object under "nvme-vfu":
        rw, bs, iodepth, queues, completion, data_pointer, namespace,
        size_bytes, ramp_s, runtime_s   the run as configured / measured
        ios, reads, writes, errors      commands completed while measuring
        iops, mib_per_s                 ios / runtime_s, bytes / 2^20 / runtime_s
        lat_mean_us, lat_p50_us, lat_p99_us, lat_p999_us, lat_max_us
        cpu_user_s, cpu_system_s, cpu_s  client process CPU while measuring
        cpu_percent                     cpu_s / runtime_s * 100
        verify, verify_errors, first_mismatch_lba (null when none)
        verify_prefilled_chunks         chunks written with the pattern
                                        before a read-only --verify run
        server_cpu_s, server_cpu_s_per_mio  with --server-pid: the server's
                                        utime + stime over the measured window,
                                        and per million I/Os (else null)
        dbbuf, doorbell_rings_per_io    shadow doorbells in use; real doorbell
                                        writes (MMIO stores or posted
                                        messages) per I/O while measuring
        thinktime_us, thinktime_blocks, rate_iops   the pacing asked for
        irq_coalescing                  --irq-coalescing as given (else null)
        interrupts, interrupts_per_io   with --completion interrupt: MSI-X
                                        interrupts the server raised while
                                        measuring (eventfd counts consumed),
                                        and per I/O (else null)
        interrupted_by                  "SIGINT" or "SIGTERM" (else null)

      --verify with read or randread first writes the pattern over every
      --bs chunk of --size (sequentially, not measured), then checks every
      read against it.

      Sparse loads, with fio's names and meanings: --thinktime USEC stalls
      the submitter after every --thinktime_blocks I/Os (default 1): it
      issues nothing more, lets every command in flight complete, then
      sleeps USEC. --rate_iops N caps submissions at N a second in total.
      Both sleep rather than spin, so the server goes idle; latency is still
      measured from the doorbell, so --iodepth 1 --thinktime 20000 measures
      the first read after 20 ms idle.
      A server that dies is noticed within 50 ms (the socket hangs up): one
      line on stderr, exit 1. SIGINT or SIGTERM ends the run early: the
      summary of what was measured so far, then exit 130 or 143.
      Exit status: 0; 1 on an I/O error (one line on stderr, no figures) or
      a lost server; 2 on a verify mismatch; 128 + the signal when stopped.
      """)

  @Option(help: "The server's UNIX socket.")
  var socket: String

  @Option(help: "read, write, randread, randwrite or randrw.")
  var rw: RWMode = .randread

  @Option(help: "Percentage of reads for randrw.")
  var rwmixread: Int = 70

  @Option(help: "Block size per command (e.g. 4k, 128k).")
  var bs: String = "4k"

  @Option(help: "Commands in flight per queue.")
  var iodepth: Int = 32

  @Option(help: "I/O queue pairs.")
  var queues: Int = 1

  @Option(
    help: "Entries per I/O queue (default --iodepth + 1; Linux's nvme driver uses 1024).")
  var entries: Int?

  @Option(help: "Measured time (5s, 500ms, 2m; a plain number is seconds).")
  var runtime = SecondsOption(10)

  @Option(help: "Load before measuring (a duration, as --runtime).")
  var ramp = SecondsOption(2)

  @Option(help: "Bytes of the namespace to use (default: all).")
  var size: String?

  @Flag(help: "Write a pattern encoding LBA and generation; check every read.")
  var verify = false

  @Option(help: "poll (spin on the phase tag) or interrupt (sleep on the MSI-X eventfd).")
  var completion: CompletionOption = .poll

  @Option(name: .customLong("data-pointer"), help: "prp or sgl.")
  var dataPointer: DataPointerOption = .prp

  @Option(help: "Namespace ID.")
  var namespace: UInt32 = 1

  @Option(name: .customLong("output-format"), help: "normal or json.")
  var outputFormat: OutputFormat = .normal

  @Option(help: "Pin the client thread to this CPU.")
  var cpu: Int?

  @Option(
    name: .customLong("server-pid"),
    help: "The server's PID: report its CPU time over the measured window.")
  var serverPID: Int32?

  // MARK: doorbells and sparse loads (kept together)

  @Option(help: "Shadow doorbells with EventIdx: on or off (default: on when offered).")
  var dbbuf: SwitchOption?

  @Option(
    help:
      "Stall after every --thinktime_blocks I/Os (fio's thinktime: microseconds, or 20ms, 1s).")
  var thinktime = MicrosecondsOption(0)

  @Option(
    name: .customLong("thinktime_blocks"), help: "I/Os between --thinktime stalls.")
  var thinktimeBlocks: Int = 1

  @Option(name: .customLong("rate_iops"), help: "Cap the submission rate at N IOPS in total.")
  var rateIOPS: UInt64 = 0

  // MARK: interrupt coalescing

  @Option(
    name: .customLong("irq-coalescing"),
    help: ArgumentHelp(
      "Set Features 08h before the run: THR (entries, 0's based) and TIME (100 us units).",
      valueName: "THR:TIME"))
  var irqCoalescing: IRQCoalescingOption?

  func validate() throws {
    guard let blockSize = SizeArgument.parse(bs), blockSize > 0, blockSize <= 1 << 30 else {
      throw ValidationError("--bs: not a size: \(bs)")
    }
    _ = blockSize
    guard (1...65535).contains(iodepth) else { throw ValidationError("--iodepth must be 1-65535") }
    guard (1...511).contains(queues) else { throw ValidationError("--queues must be 1-511") }
    if let entries, !(2...65536).contains(entries) || entries <= iodepth {
      throw ValidationError("--entries must be 2-65536 and more than --iodepth")
    }
    guard (0...100).contains(rwmixread) else { throw ValidationError("--rwmixread must be 0-100") }
    guard runtime.seconds > 0, runtime.seconds <= 86400, ramp.seconds <= 86400 else {
      throw ValidationError("--runtime must be more than 0 and at most 1 day, --ramp at most 1 day")
    }
    if let size, SizeArgument.parse(size) == nil {
      throw ValidationError("--size: not a size: \(size)")
    }
    if let cpu, cpu < 0 { throw ValidationError("--cpu must be >= 0") }
    guard thinktime.microseconds <= 60_000_000 else {
      throw ValidationError("--thinktime must be <= 60 s")
    }
    guard thinktimeBlocks >= 1 else { throw ValidationError("--thinktime_blocks must be >= 1") }
    guard rateIOPS <= 1_000_000_000 else { throw ValidationError("--rate_iops must be <= 1e9") }
  }

  func run() throws {
    if let cpu {
      do throws(Errno) {
        try CurrentThread.pin(toCPU: cpu)
      } catch {
        fail("--cpu \(cpu): \(error.text)", code: 1)
      }
    }
    var plan = PerfPlan(
      socket: socket, rw: rw, readPercent: rwmixread,
      blockSize: Int(SizeArgument.parse(bs) ?? 4096), iodepth: iodepth, queues: queues,
      runtime: runtime.seconds, ramp: ramp.seconds, size: size.flatMap(SizeArgument.parse),
      verify: verify,
      completion: completion.mode, dataPointer: dataPointer.kind, namespace: namespace,
      showProgress: isatty(STDOUT_FILENO) == 1 && outputFormat == .normal, serverPID: serverPID,
      dbbuf: dbbuf.map { $0 == .on }, thinktimeMicroseconds: thinktime.microseconds,
      thinktimeBlocks: thinktimeBlocks, rateIOPS: rateIOPS)
    plan.irqCoalescing = irqCoalescing
    plan.entries = entries
    let result: PerfResult
    do {
      let runner = try PerfRunner(plan: plan)
      // Attached: from here SIGINT and SIGTERM are blocked and read by the run, so a
      // stop prints what was measured. Before, they end the bench at once.
      let signals: SignalFD
      do throws(Errno) {
        signals = try SignalFD(signals: [SIGINT, SIGTERM])
      } catch {
        fail("signalfd: \(error.text)", code: 1)
      }
      runner.watch(signals: signals)
      result = try runner.run()
    } catch {
      fail("\(error)", code: 1)
    }
    // A run with a failed command measured nothing worth a figure.
    if let error = result.ioError {
      fail("I/O error: \(error)", code: 1)
    }
    switch outputFormat {
    case .normal: print(PerfReport.text(result))
    case .json: print(PerfReport.json(result))
    }
    if let mismatch = result.mismatch {
      fail("verify: \(mismatch)", code: 2)
    }
    if case .signal(let signo) = result.stop {
      Glibc.exit(128 + signo)
    }
  }
}

/// One line on stderr, then exit with `code`.
func fail(_ message: String, code: Int32) -> Never {
  let line = "nvme-vfu-bench: \(message)\n"
  _ = line.withCString { write(2, $0, strlen($0)) }
  exit(code)
}
