import NVMe
import POSIX
import VFIOUser

extension NVMeHost {
  /// Runs one admin command to completion; a non-success status throws.
  @discardableResult
  public func admin(_ command: NVMeCommand) throws(NVMeHostError) -> NVMeCompletion {
    guard let queue = adminQueue else { throw .invalidArgument("the controller is not enabled") }
    return try execute(command, on: queue, admin: true)
  }

  /// Runs one command on `queue` and waits for it; a non-success status
  /// throws `.command` with it. The queue must have nothing else outstanding
  /// whose completion the caller still wants.
  @discardableResult
  public func execute(_ command: NVMeCommand, on queue: NVMeQueue) throws(NVMeHostError)
    -> NVMeCompletion
  {
    try execute(command, on: queue, admin: queue.id == 0)
  }

  private func execute(_ command: NVMeCommand, on queue: NVMeQueue, admin: Bool)
    throws(NVMeHostError) -> NVMeCompletion
  {
    let cid = try queue.submit(command)
    var result: NVMeCompletion?
    let deadline =
      MonotonicClock.nanoseconds()
      &+ UInt64(configuration.commandTimeoutMilliseconds) &* 1_000_000
    while result == nil {
      let now = MonotonicClock.nanoseconds()
      guard now < deadline,
        try queue.waitForCompletion(
          timeoutMilliseconds: Int((deadline &- now) / 1_000_000) &+ 1)
      else { throw .timeout("command 0x\(String(command.opcode, radix: 16))") }
      try queue.reap { completion in
        if completion.commandID == cid { result = completion }
      }
    }
    guard let result, result.isSuccess else {
      throw .command(
        opcode: command.opcode, admin: admin, status: result?.status ?? .internalError)
    }
    return result
  }

  // MARK: identify

  /// Identify with `cns` into the scratch page; returns the 4096 bytes.
  public func identify(cns: UInt8, namespace: UInt32 = 0) throws(NVMeHostError) -> [UInt8] {
    try admin(
      NVMeCommand(
        opcode: AdminOpcode.identify.rawValue, namespaceID: namespace, cdw10: UInt32(cns),
        data: scratch))
    return Array(scratch.bytes)
  }

  public func identifyController() throws(NVMeHostError) -> IdentifyControllerData {
    guard let data = IdentifyControllerData(bytes: try identify(cns: 0x01)) else {
      throw .protocolViolation("short Identify Controller data")
    }
    controllerData = data
    return data
  }

  public func identifyNamespace(_ namespace: UInt32 = 1) throws(NVMeHostError)
    -> IdentifyNamespaceData
  {
    guard let data = IdentifyNamespaceData(bytes: try identify(cns: 0x00, namespace: namespace))
    else { throw .protocolViolation("short Identify Namespace data") }
    return data
  }

  // MARK: queues

  /// Set Features, Number of Queues: asks for `count` I/O queue pairs;
  /// returns what the controller allocated (1-based).
  public func setNumberOfQueues(_ count: Int) throws(NVMeHostError)
    -> (submission: Int, completion: Int)
  {
    guard count >= 1, count <= 65535 else { throw .invalidArgument("\(count) queues") }
    let wanted = UInt32(count - 1)
    let reply = try admin(
      NVMeCommand(
        opcode: AdminOpcode.setFeatures.rawValue,
        cdw10: UInt32(FeatureID.numberOfQueues.rawValue), cdw11: wanted << 16 | wanted))
    let allocated = (Int(reply.dw0 & 0xFFFF) + 1, Int(reply.dw0 >> 16) + 1)
    allocatedQueues = allocated
    return allocated
  }

  /// Creates I/O queue pairs 1...count (each a CQ on vector n, then its SQ)
  /// with `entries` each, capped by CAP.MQES. Sets the number of queues
  /// first, unless it was set since the controller was enabled (it may be
  /// set only once: queues deleted and created again keep that number), and
  /// Doorbell Buffer Config once per enable when it is offered and wanted.
  @discardableResult
  public func createIOQueues(count: Int, entries: Int) throws(NVMeHostError) -> [NVMeQueue] {
    guard ioQueues.isEmpty else { throw .invalidArgument("I/O queues already exist") }
    let allocated: (submission: Int, completion: Int)
    if let known = allocatedQueues {
      allocated = known
    } else {
      allocated = try setNumberOfQueues(count)
    }
    guard allocated.submission >= count, allocated.completion >= count else {
      throw .unsupported(
        "\(count) I/O queues (the controller allocated \(allocated.submission) submission "
          + "and \(allocated.completion) completion queues)")
    }
    let size = max(2, min(entries, capabilities.maxQueueEntries))
    try configureShadowDoorbells()
    let shadow = shadowDoorbellsActive ? shadowPages : nil
    let interrupts = configuration.completionMode == .interrupt
    for qid in 1...count {
      let id = UInt16(qid)
      let memory = try memoryForQueue(id, entries: size)
      shadow?.clear(queue: id)
      let vector = vectors.map { qid < $0.fds.count ? qid : 0 } ?? 0
      let queue = try NVMeQueue(
        id: id, memory: memory, vector: vector, completionMode: configuration.completionMode,
        doorbells: doorbells, shadowPages: shadow, vectors: vectors, client: client,
        servesMessages: configuration.sharing == .messages,
        sglSupported: controllerData?.supportsSGL ?? false)
      let dword10 = UInt32(size - 1) << 16 | UInt32(qid)
      // CQ: physically contiguous (bit 0), interrupts enabled (bit 1) only
      // when the host sleeps on them, so a polling host costs the server no
      // eventfd writes.
      try admin(
        NVMeCommand(
          opcode: AdminOpcode.createIOCompletionQueue.rawValue, cdw10: dword10,
          cdw11: UInt32(vector) << 16 | (interrupts ? 0x2 : 0) | 0x1,
          prp1: memory.completions.address))
      try admin(
        NVMeCommand(
          opcode: AdminOpcode.createIOSubmissionQueue.rawValue, cdw10: dword10,
          cdw11: UInt32(qid) << 16 | 0x1, prp1: memory.submissions.address))
      ioQueues.append(queue)
    }
    return ioQueues
  }

  /// Deletes every I/O queue pair (SQ first, then its CQ).
  public func deleteIOQueues() throws(NVMeHostError) {
    for queue in ioQueues.reversed() {
      try admin(
        NVMeCommand(opcode: AdminOpcode.deleteIOSubmissionQueue.rawValue, cdw10: UInt32(queue.id)))
      try admin(
        NVMeCommand(opcode: AdminOpcode.deleteIOCompletionQueue.rawValue, cdw10: UInt32(queue.id)))
    }
    ioQueues = []
  }

  private func memoryForQueue(_ id: UInt16, entries: Int) throws(NVMeHostError) -> QueueMemory {
    if let memory = queueMemory[id], memory.entries == entries { return memory }
    do {
      let memory = try QueueMemory(entries: entries, ram: ram)
      queueMemory[id] = memory
      return memory
    } catch {
      throw error == .noSpace ? .invalidArgument("guest RAM exhausted") : .transport(error)
    }
  }
}
