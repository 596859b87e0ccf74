import Glibc
import NVMe
import POSIX
import VFIOUser

extension NVMeHost {
  /// CC as Linux writes it: NVM command set, 4 KiB pages (MPS 0),
  /// round-robin, 64-byte SQEs (IOSQES 6), 16-byte CQEs (IOCQES 4), enabled.
  static let enabledConfiguration: UInt32 = 1 | 6 << 16 | 4 << 20

  /// Brings the controller up: CC.EN = 0 and wait for RDY = 0, program the
  /// admin queue (AQA, ASQ, ACQ), write CC and wait for RDY = 1, each wait
  /// bounded by CAP.TO. Also turns on memory decoding and bus mastering in
  /// the PCI command register, as a driver does.
  public func enableController() throws(NVMeHostError) {
    try enablePCIDevice()
    let cc = try read32(RegisterOffset.cc)
    if cc & 1 != 0 {
      try write32(RegisterOffset.cc, cc & ~1)
    }
    try waitReady(false)
    allocatedQueues = nil
    shadowDoorbellsActive = false
    let entries = adminMemory.entries
    let queue = try NVMeQueue(
      id: 0, memory: adminMemory, vector: 0, completionMode: configuration.completionMode,
      doorbells: doorbells, vectors: vectors, client: client,
      servesMessages: configuration.sharing == .messages, sglSupported: false)
    let size = UInt32(entries - 1)
    try write32(RegisterOffset.aqa, size << 16 | size)
    try write64(RegisterOffset.asq, adminMemory.submissions.address)
    try write64(RegisterOffset.acq, adminMemory.completions.address)
    try write32(RegisterOffset.cc, Self.enabledConfiguration)
    try waitReady(true)
    adminQueue = queue
  }

  /// Controller reset by CC.EN = 0: waits for RDY = 0, hands completions
  /// already posted to `handler`, then every command still outstanding as
  /// aborted by the host, each exactly once. The I/O queues are gone
  /// afterwards; `enableController` and `createIOQueues` bring them back.
  public func resetController(_ handler: (NVMeQueue, NVMeCompletion) -> Void = { _, _ in })
    throws(NVMeHostError)
  {
    let cc = try read32(RegisterOffset.cc)
    try write32(RegisterOffset.cc, cc & ~1)
    try waitReady(false)
    allocatedQueues = nil
    // A reset forgets Doorbell Buffer Config; the next queues ask again.
    shadowDoorbellsActive = false
    abandonQueues(handler)
  }

  /// Orderly stop: CC.SHN = 01b (normal shutdown) and wait for SHST = 10b,
  /// then disable.
  public func shutdownController() throws(NVMeHostError) {
    let cc = try read32(RegisterOffset.cc)
    if cc & 1 != 0 {
      try write32(RegisterOffset.cc, (cc & ~(0x3 << 14)) | 1 << 14)
      let deadline = MonotonicClock.nanoseconds() &+ timeoutNanoseconds
      while try read32(RegisterOffset.csts) >> 2 & 0x3 != 0x2 {
        guard MonotonicClock.nanoseconds() < deadline else {
          throw .timeout("shutdown (CSTS.SHST)")
        }
        usleep(100)
      }
    }
    try resetController()
  }

  /// Reaps what the queues hold, abandons the rest, forgets the queues.
  func abandonQueues(_ handler: (NVMeQueue, NVMeCompletion) -> Void) {
    let queues = ioQueues + (adminQueue.map { [$0] } ?? [])
    for queue in queues {
      // Completions posted before the reset are real; reading them needs no
      // message, and the head doorbell of a queue that no longer exists is
      // not rung.
      _ = try? queue.reap(limit: .max, ringHead: false) { handler(queue, $0) }
      queue.abandon { handler(queue, $0) }
    }
    ioQueues = []
    adminQueue = nil
  }

  var timeoutNanoseconds: UInt64 {
    UInt64(capabilities.readyTimeoutMilliseconds) &* 1_000_000
  }

  /// Waits for CSTS.RDY to equal `ready`, bounded by CAP.TO; CSTS.CFS while
  /// becoming ready is an error.
  func waitReady(_ ready: Bool) throws(NVMeHostError) {
    let deadline = MonotonicClock.nanoseconds() &+ timeoutNanoseconds
    while true {
      let csts = try read32(RegisterOffset.csts)
      if ready && csts & 0x2 != 0 { throw .controllerFatal }
      if (csts & 1 != 0) == ready { return }
      guard MonotonicClock.nanoseconds() < deadline else {
        throw .timeout("CSTS.RDY = \(ready ? 1 : 0)")
      }
      usleep(100)
    }
  }

  /// PCI command register: memory space (bit 1) and bus master (bit 2).
  func enablePCIDevice() throws(NVMeHostError) {
    do throws(Errno) {
      let current = try client.regionRead(Self.configRegion, offset: 4, count: 2)
      guard current.count == 2 else { throw .protocolError }
      let value = (UInt16(current[0]) | UInt16(current[1]) << 8) | 0x6
      try client.regionWrite(
        Self.configRegion, offset: 4,
        data: [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)])
    } catch {
      throw .transport(error)
    }
  }
}
