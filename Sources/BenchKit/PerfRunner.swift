import Glibc
import Histogram
import NVMe
import NVMeHostDriver
import POSIX
import VFIOUserClient

/// What `perf` was asked to do, validated.
public struct PerfPlan: Sendable {
  public var socket: String
  public var rw: RWMode
  public var readPercent: Int
  public var blockSize: Int
  public var iodepth: Int
  public var queues: Int
  public var runtime: Double
  public var ramp: Double
  public var size: UInt64?
  public var verify: Bool
  public var completion: CompletionMode
  public var dataPointer: DataPointerKind
  public var namespace: UInt32
  public var showProgress: Bool
  /// The server's PID: its CPU time is sampled at the start and end of the
  /// measured window (/proc/PID/stat).
  public var serverPID: Int32? = nil
  /// Entries per I/O queue; nil: iodepth + 1, the least that holds them.
  public var entries: Int? = nil

  // Doorbells and sparse loads (wake-on-doorbell): kept together.
  /// Shadow doorbells: nil uses them when the controller offers them.
  public var dbbuf: Bool? = nil
  /// fio's thinktime (0: none), thinktime_blocks and rate_iops (0: no cap).
  public var thinktimeMicroseconds: UInt64 = 0
  public var thinktimeBlocks: Int = 1
  public var rateIOPS: UInt64 = 0

  /// Interrupt Coalescing to set (Set Features 08h) before the run.
  public var irqCoalescing: IRQCoalescingOption? = nil

  public init(
    socket: String, rw: RWMode, readPercent: Int, blockSize: Int, iodepth: Int, queues: Int,
    runtime: Double, ramp: Double, size: UInt64?, verify: Bool, completion: CompletionMode,
    dataPointer: DataPointerKind, namespace: UInt32, showProgress: Bool, serverPID: Int32? = nil,
    entries: Int? = nil, dbbuf: Bool? = nil, thinktimeMicroseconds: UInt64 = 0,
    thinktimeBlocks: Int = 1, rateIOPS: UInt64 = 0, irqCoalescing: IRQCoalescingOption? = nil
  ) {
    self.socket = socket
    self.rw = rw
    self.readPercent = readPercent
    self.blockSize = blockSize
    self.iodepth = iodepth
    self.queues = queues
    self.runtime = runtime
    self.ramp = ramp
    self.size = size
    self.verify = verify
    self.completion = completion
    self.dataPointer = dataPointer
    self.namespace = namespace
    self.showProgress = showProgress
    self.serverPID = serverPID
    self.entries = entries
    self.dbbuf = dbbuf
    self.thinktimeMicroseconds = thinktimeMicroseconds
    self.thinktimeBlocks = thinktimeBlocks
    self.rateIOPS = rateIOPS
    self.irqCoalescing = irqCoalescing
  }
}

/// What a run measured.
public struct PerfResult {
  var plan: PerfPlan
  var sizeBytes: UInt64
  var seconds: Double
  var reads: UInt64
  var writes: UInt64
  var errors: UInt64
  var histogram: Histogram<UInt64>
  /// The same latencies by direction.
  var readHistogram: Histogram<UInt64>
  var writeHistogram: Histogram<UInt64>
  var cpuUser: Double
  var cpuSystem: Double
  public var mismatch: VerifyMismatch?
  public var ioError: String?
  /// The server's CPU seconds over the measured window (with `serverPID`).
  var serverCPU: Double? = nil
  /// Whether the I/O queues used shadow doorbells, whether real doorbells
  /// were mmapped stores (else posted messages), and how many real
  /// doorbell writes the I/O queues made while measuring.
  var dbbuf = false
  var doorbellsMapped = true
  var doorbellRings: UInt64 = 0
  /// MSI-X interrupts the server raised over the measured window, as
  /// consumed from the eventfds (interrupt completion only).
  var interrupts: UInt64? = nil
  /// A signal that ended the run early (nil: it ran its time).
  public var stop: RunStop? = nil
  /// With --verify on a read-only workload: chunks written with the pattern
  /// before the reads (nil: none were).
  var prefilledChunks: UInt64? = nil

  var ios: UInt64 { reads &+ writes }
}

/// The closed loop: `iodepth` commands per queue, each resubmitted as soon
/// as it completes, one thread for all queues. Everything the loop touches
/// is allocated in `init`; a turn of the loop allocates nothing.
public final class PerfRunner {
  static let highestLatency: UInt64 = 60_000_000_000

  let plan: PerfPlan
  let host: NVMeHost
  let queues: [NVMeQueue]
  let lbaSize: Int
  let blocksPerIO: Int
  let sizeBytes: UInt64
  var workload: Workload
  private var histogram: Histogram<UInt64>
  private var readHistogram: Histogram<UInt64>
  private var writeHistogram: Histogram<UInt64>
  var watch: RunWatch

  // Per command, indexed by tag = queue * iodepth + slot.
  let buffers: [GuestBuffer]
  private var startTimes: [UInt64]
  var chunkOfTag: [UInt64]
  private var readOfTag: [Bool]
  var generationOfTag: [UInt32]
  /// Tags completed in the current reap, resubmitted right after it.
  private var completedTags: [Int] = []

  // Pacing (--thinktime, --rate_iops): completed tags wait per queue until
  // the pacer lets them go out again.
  private var pacer: Pacer
  var readyTags: [[Int]]
  private var readyCount = 0
  private var nextQueue = 0
  private var inFlight = 0

  // --verify: generation last written per chunk (0 never, max unknown) and
  // chunks with a command in flight (never two at once on one chunk).
  var chunkGeneration: [UInt32] = []
  private var chunkBusy: [Bool] = []
  var generation: UInt32 = 0

  private var measuring = false
  private var submitting = true
  private var reads: UInt64 = 0
  private var writes: UInt64 = 0
  private var errors: UInt64 = 0
  private var completedTotal: UInt64 = 0
  private var mismatch: VerifyMismatch?
  var ioError: String?

  /// From now on the run reads SIGINT and SIGTERM from `signals` (blocked, so a stop
  /// prints what was measured). Given after attaching: until then a signal ends the
  /// process at once, even while a hung server holds the attach for its reply timeout.
  public func watch(signals: SignalFD) {
    watch = RunWatch(socket: host.client.connection.socket, signals: signals)
  }

  public init(plan: PerfPlan) throws {
    self.plan = plan
    let entries = plan.entries ?? plan.iodepth + 1
    let pages = { (bytes: Int) in (bytes + 4095) / 4096 }
    let perQueue = pages(entries * 64) + pages(entries * 16) + (entries - 1)
    let buffersBytes = plan.queues * plan.iodepth * pages(plan.blockSize) * 4096
    var configuration = NVMeHost.Configuration()
    configuration.completionMode = plan.completion
    // Scratch, admin queue, shadow doorbell and EventIdx pages, I/O queues.
    configuration.ramSize =
      (2 + 33 + 2 + plan.queues * perQueue) * 4096 + buffersBytes + (1 << 20)
    configuration.ramName = "nvme-vfu-bench-ram"
    configuration.shadowDoorbells = plan.dbbuf ?? true
    host = try attachHost(path: plan.socket, configuration: configuration)
    watch = RunWatch(socket: host.client.connection.socket, signals: nil)
    if plan.dbbuf == true && !host.shadowDoorbellsOffered {
      throw BenchError("--dbbuf on: the controller does not offer Doorbell Buffer Config")
    }
    if let coalescing = plan.irqCoalescing {
      try host.admin(
        NVMeCommand(
          opcode: AdminOpcode.setFeatures.rawValue,
          cdw10: UInt32(FeatureID.interruptCoalescing.rawValue), cdw11: coalescing.cdw11))
    }

    let namespace = try host.identifyNamespace(plan.namespace)
    guard namespace.nsze > 0, let lbaSize = namespace.blockSize else {
      throw BenchError("namespace \(plan.namespace) is not active")
    }
    guard plan.blockSize % lbaSize == 0, plan.blockSize / lbaSize <= 65536 else {
      throw BenchError("--bs \(plan.blockSize) is not a multiple of the \(lbaSize)-byte LBA")
    }
    if let mdts = host.controllerData?.maxTransferBytes(), plan.blockSize > mdts {
      throw BenchError("--bs \(plan.blockSize) exceeds the controller's MDTS (\(mdts) bytes)")
    }
    guard entries <= host.capabilities.maxQueueEntries else {
      throw BenchError(
        "--iodepth \(plan.iodepth) needs \(entries)-entry queues; the controller allows \(host.capabilities.maxQueueEntries)"
      )
    }
    let capacity = namespace.nsze.multipliedReportingOverflow(by: UInt64(lbaSize))
    guard !capacity.overflow else { throw BenchError("namespace too large") }
    sizeBytes = min(plan.size ?? capacity.partialValue, capacity.partialValue)
    let chunks = sizeBytes / UInt64(plan.blockSize)
    guard chunks > 0 else { throw BenchError("--size is smaller than --bs") }
    let total = plan.queues * plan.iodepth
    if plan.verify {
      guard chunks > UInt64(total), chunks <= 1 << 28 else {
        throw BenchError(
          "--verify needs more --bs chunks than commands in flight, and at most 2^28")
      }
    }
    self.lbaSize = lbaSize
    blocksPerIO = plan.blockSize / lbaSize
    let queues = try host.createIOQueues(count: plan.queues, entries: entries)
    guard queues.allSatisfy({ $0.capacity >= plan.iodepth }) else {
      throw BenchError("queues smaller than --iodepth")
    }
    if plan.dbbuf == true && !host.shadowDoorbellsActive {
      throw BenchError("--dbbuf on: the controller refused Doorbell Buffer Config")
    }
    pacer = Pacer(
      thinktimeMicroseconds: plan.thinktimeMicroseconds, thinktimeBlocks: plan.thinktimeBlocks,
      rateIOPS: plan.rateIOPS)
    readyTags = (0..<plan.queues).map { index in
      Array((index * plan.iodepth)..<((index + 1) * plan.iodepth))
    }
    for index in readyTags.indices { readyTags[index].reserveCapacity(plan.iodepth) }
    self.queues = queues
    var buffers: [GuestBuffer] = []
    for _ in 0..<total { buffers.append(try host.allocate(plan.blockSize)) }
    self.buffers = buffers
    startTimes = [UInt64](repeating: 0, count: total)
    chunkOfTag = [UInt64](repeating: 0, count: total)
    readOfTag = [Bool](repeating: true, count: total)
    generationOfTag = [UInt32](repeating: 0, count: total)
    workload = Workload(mode: plan.rw, readPercent: plan.readPercent, chunks: chunks)
    histogram = Self.latencyHistogram()
    readHistogram = Self.latencyHistogram()
    writeHistogram = Self.latencyHistogram()
    completedTags.reserveCapacity(total)
    if plan.verify {
      chunkGeneration = [UInt32](repeating: 0, count: Int(chunks))
      chunkBusy = [Bool](repeating: false, count: Int(chunks))
    }
  }

  static func latencyHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(
      lowestDiscernibleValue: 1, highestTrackableValue: Self.highestLatency,
      numberOfSignificantValueDigits: .three)
  }

  public func run() throws -> PerfResult {
    var prefilled: UInt64?
    if plan.verify && !plan.rw.writes {
      prefilled = try hangUpAware { try prefill() }
      // A stop, or a write the namespace refused: nothing to measure.
      if watch.stop != nil || ioError != nil {
        return try stopped(watch.stop, prefilled: prefilled)
      }
    }
    // A doorbell message to a server that died fails with EPIPE: that
    // too is its hang-up.
    var result = try hangUpAware { try measure() }
    result.prefilledChunks = prefilled
    return result
  }

  /// A run that ended before the measured loop began: nothing measured.
  private func stopped(_ stop: RunStop?, prefilled: UInt64?) throws -> PerfResult {
    if stop == .hangUp { throw hangUpError() }
    _ = try? host.resetController()
    var result = PerfResult(
      plan: plan, sizeBytes: sizeBytes, seconds: 0, reads: 0, writes: 0, errors: 0,
      histogram: histogram, readHistogram: readHistogram, writeHistogram: writeHistogram,
      cpuUser: 0, cpuSystem: 0, mismatch: nil, ioError: ioError)
    result.stop = stop
    result.prefilledChunks = prefilled
    return result
  }

  /// `body`, with a transport error from a server that hung up reported
  /// as `hangUpError`.
  func hangUpAware<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      if RunWatch.hungUp(host.client.connection.socket) { throw hangUpError() }
      throw error
    }
  }

  func hangUpError() -> BenchError {
    host.releaseLocally()
    return BenchError("the server closed the vfio-user connection (socket hang-up)")
  }

  private func measure() throws -> PerfResult {
    let progress = Progress(enabled: plan.showProgress, plan: plan)
    var pollSet = InterruptPollSet(
      host: host, queues: queues, enabled: plan.completion == .interrupt)
    if pacer.isActive {
      // Every tag waits for the pacer, the first ones included.
      readyCount = plan.queues * plan.iodepth
    } else {
      for (index, queue) in queues.enumerated() {
        for tag in readyTags[index] { try submit(tag: tag, on: queue) }
        readyTags[index].removeAll(keepingCapacity: true)
        try queue.ringDoorbell()
      }
    }
    let start = MonotonicClock.nanoseconds()
    pacer.start(at: start)
    let rampEnd = start &+ UInt64(plan.ramp * 1e9)
    var end = rampEnd &+ UInt64(plan.runtime * 1e9)
    var measureStart = start
    var cpuStart = CPUTime.process()
    var serverCPUStart = plan.serverPID.flatMap { ProcessCPU.seconds(pid: $0) }
    var interruptsStart = interruptsConsumed
    var ringsStart = doorbellRings
    measuring = plan.ramp == 0
    var now = start
    while true {
      var progressed = 0
      for (index, queue) in queues.enumerated() {
        if plan.completion == .interrupt { host.vectors?.consume(queue.vector) }
        if queue.hasCompletion { progressed &+= try reapAndResubmit(queue, index: index) }
      }
      now = MonotonicClock.nanoseconds()
      var issued = 0
      if pacer.isActive {
        issued = try issuePaced(now: &now, until: end)
      }
      if !measuring && now >= rampEnd {
        measuring = true
        histogram.reset()
        readHistogram.reset()
        writeHistogram.reset()
        reads = 0
        writes = 0
        errors = 0
        measureStart = now
        end = now &+ UInt64(plan.runtime * 1e9)
        cpuStart = CPUTime.process()
        serverCPUStart = plan.serverPID.flatMap { ProcessCPU.seconds(pid: $0) }
        interruptsStart = interruptsConsumed
        ringsStart = doorbellRings
      }
      if measuring && now >= end { break }
      if mismatch != nil || ioError != nil { break }
      if let stop = watch.check(now: now) {
        if stop == .hangUp { throw hangUpError() }
        break
      }
      progress.tick(now: now, start: start, rampEnd: rampEnd, completed: completedTotal)
      guard progressed == 0 && issued == 0 else { continue }
      if pacer.isActive && inFlight == 0 {
        // Nothing in flight and the rate says not yet: sleep until it does
        // (at most until the end, and 100 ms for the progress line).
        sleep(untilNanoseconds: min(pacer.nextDue, end, now &+ 100_000_000))
      } else if plan.completion == .interrupt {
        var remaining = (end &- now) / 1_000_000 &+ 1
        if pacer.intervalNanoseconds > 0 && pacer.nextDue > now {
          remaining = min(remaining, (pacer.nextDue &- now) / 1_000_000)
        }
        pollSet.wait(timeoutMilliseconds: Int32(clamping: min(remaining, 100)))
      }
    }
    let rings = doorbellRings &- ringsStart
    // Before the reset below, which forgets the shadow buffers.
    let dbbuf = host.shadowDoorbellsActive && queues.allSatisfy(\.usesShadowDoorbells)
    let cpu = CPUTime.process() - cpuStart
    let serverCPUEnd = plan.serverPID.flatMap { ProcessCPU.seconds(pid: $0) }
    let interrupts = interruptsConsumed &- interruptsStart
    let seconds = measuring ? Double(now &- measureStart) / 1e9 : 0
    if !measuring {
      // Stopped during the ramp: nothing was measured.
      reads = 0
      writes = 0
      errors = 0
    }
    measuring = false
    progress.finish()
    try drain()
    _ = try? host.resetController()
    var result = PerfResult(
      plan: plan, sizeBytes: sizeBytes, seconds: seconds, reads: reads, writes: writes,
      errors: errors, histogram: histogram, readHistogram: readHistogram,
      writeHistogram: writeHistogram, cpuUser: cpu.user, cpuSystem: cpu.system,
      mismatch: mismatch, ioError: ioError,
      serverCPU: serverCPUEnd.flatMap { end in serverCPUStart.map { end - $0 } },
      dbbuf: dbbuf,
      doorbellsMapped: host.doorbellsMapped, doorbellRings: rings,
      interrupts: plan.completion == .interrupt ? interrupts : nil)
    result.stop = watch.stop
    return result
  }

  /// Every vector's interrupts consumed so far (only the queues' vectors
  /// see any while measuring).
  private var interruptsConsumed: UInt64 {
    host.vectors?.interrupts.reduce(0, &+) ?? 0
  }

  /// Real doorbell writes of the I/O queues so far.
  private var doorbellRings: UInt64 { queues.reduce(0) { $0 &+ $1.doorbellRings } }

  /// With a pacer: the stall once `thinktime_blocks` went out and all of
  /// them completed, then as many waiting tags as it allows, from the
  /// queues in turn, one doorbell per queue. Returns how many went out.
  private func issuePaced(now: inout UInt64, until end: UInt64) throws -> Int {
    guard submitting else { return 0 }
    if pacer.mustThink {
      // fio quiesces before thinking: the server sees no I/O at all.
      guard inFlight == 0 else { return 0 }
      // In slices, so a signal or a hang-up ends even a long think.
      let wake = min(now &+ pacer.thinkNanoseconds, end)
      var slept = now
      while slept < wake, watch.check(now: slept) == nil {
        sleep(untilNanoseconds: min(wake, slept &+ RunWatch.intervalNanoseconds))
        slept = MonotonicClock.nanoseconds()
      }
      pacer.thought()
      now = MonotonicClock.nanoseconds()
    }
    guard readyCount > 0 else { return 0 }
    var allowed = pacer.take(now: now, wanted: readyCount)
    let total = allowed
    while allowed > 0 {
      let index = nextQueue
      nextQueue = nextQueue &+ 1 == queues.count ? 0 : nextQueue &+ 1
      guard !readyTags[index].isEmpty else { continue }
      let queue = queues[index]
      while allowed > 0, let tag = readyTags[index].popLast() {
        try submit(tag: tag, on: queue)
        allowed &-= 1
        readyCount &-= 1
      }
      try queue.ringDoorbell()
    }
    return total
  }

  /// One reap on `queue`, then every completed tag goes out again in one
  /// doorbell write (with a pacer: waits for it in `readyTags`).
  private func reapAndResubmit(_ queue: NVMeQueue, index: Int) throws -> Int {
    completedTags.removeAll(keepingCapacity: true)
    let now = MonotonicClock.nanoseconds()
    let count = try queue.reap { completion in complete(completion, now: now) }
    if pacer.isActive {
      readyTags[index].append(contentsOf: completedTags)
      readyCount &+= completedTags.count
    } else if submitting {
      for tag in completedTags { try submit(tag: tag, on: queue) }
      try queue.ringDoorbell()
    }
    return count
  }

  private func complete(_ completion: NVMeCompletion, now: UInt64) {
    let tag = Int(truncatingIfNeeded: completion.tag)
    guard tag >= 0, tag < startTimes.count else { return }
    completedTotal &+= 1
    inFlight &-= 1
    let isRead = readOfTag[tag]
    if measuring {
      let latency = min(now &- startTimes[tag], Self.highestLatency)
      _ = histogram.record(latency)
      if isRead {
        reads &+= 1
        _ = readHistogram.record(latency)
      } else {
        writes &+= 1
        _ = writeHistogram.record(latency)
      }
    }
    if !completion.isSuccess {
      errors &+= 1
      if ioError == nil {
        ioError =
          "\(isRead ? "read" : "write") of LBA \(chunkOfTag[tag] &* UInt64(blocksPerIO)): \(completion.status)"
      }
    }
    if plan.verify { verifyCompletion(tag: tag, isRead: isRead, succeeded: completion.isSuccess) }
    completedTags.append(tag)
  }

  private func verifyCompletion(tag: Int, isRead: Bool, succeeded: Bool) {
    let chunk = Int(chunkOfTag[tag])
    chunkBusy[chunk] = false
    if !isRead {
      chunkGeneration[chunk] = succeeded ? generationOfTag[tag] : UInt32.max
      return
    }
    let expected = chunkGeneration[chunk]
    guard succeeded, expected != UInt32.max, mismatch == nil,
      let base = buffers[tag].bytes.baseAddress
    else { return }
    mismatch = VerifyPattern.check(
      base, lba: UInt64(chunk) &* UInt64(blocksPerIO), blocks: blocksPerIO, blockSize: lbaSize,
      generation: expected)
  }

  private func submit(tag: Int, on queue: NVMeQueue) throws {
    let isRead = workload.nextIsRead()
    var chunk = workload.nextChunk()
    let buffer = buffers[tag]
    if plan.verify {
      // One command per chunk at a time, so what a read finds is defined.
      while chunkBusy[Int(chunk)] { chunk = chunk &+ 1 == workload.chunks ? 0 : chunk &+ 1 }
      chunkBusy[Int(chunk)] = true
      if !isRead, let base = buffer.bytes.baseAddress {
        generation = generation == UInt32.max - 1 ? 1 : generation &+ 1
        generationOfTag[tag] = generation
        VerifyPattern.fill(
          base, lba: chunk &* UInt64(blocksPerIO), blocks: blocksPerIO, blockSize: lbaSize,
          generation: generation)
      }
    }
    chunkOfTag[tag] = chunk
    readOfTag[tag] = isRead
    let lba = chunk &* UInt64(blocksPerIO)
    let command =
      isRead
      ? NVMeCommand.read(
        namespace: plan.namespace, lba: lba, blocks: blocksPerIO, buffer: buffer,
        using: plan.dataPointer)
      : NVMeCommand.write(
        namespace: plan.namespace, lba: lba, blocks: blocksPerIO, buffer: buffer,
        using: plan.dataPointer)
    startTimes[tag] = MonotonicClock.nanoseconds()
    try queue.submit(command, tag: UInt64(tag), ring: false)
    inFlight &+= 1
  }

  /// Lets every outstanding command finish (not measured, not resubmitted),
  /// in at most 10 s; a server that hangs up meanwhile ends it at once.
  private func drain() throws {
    submitting = false
    let deadline = MonotonicClock.nanoseconds() &+ 10_000_000_000
    for queue in queues {
      while queue.outstanding > 0 {
        if try hangUpAware({ try queue.waitForCompletion(timeoutMilliseconds: 50) }) {
          try queue.reap { completion in complete(completion, now: MonotonicClock.nanoseconds()) }
          continue
        }
        if RunWatch.hungUp(host.client.connection.socket) { throw hangUpError() }
        guard MonotonicClock.nanoseconds() < deadline else {
          throw BenchError("timed out waiting for completions on queue \(queue.id)")
        }
      }
    }
  }
}

public struct BenchError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
