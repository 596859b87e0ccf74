import CShims
import Glibc
import NVMe
import POSIX
import VFIOUser
import VFIOUserClient

/// How the host learns that commands completed.
public enum CompletionMode: String, Sendable, CaseIterable {
  /// Spin on the phase tag of the next completion queue entry.
  case poll
  /// Sleep on the queue's MSI-X eventfd, then drain the completion queue.
  case interrupt
}

/// The memory one queue pair lives in: both rings and one page per command
/// slot for its PRP list or SGL segment. Kept by the host so a queue
/// recreated after a reset reuses it.
struct QueueMemory {
  let entries: Int
  let submissions: GuestBuffer
  let completions: GuestBuffer
  let slotPages: GuestBuffer

  init(entries: Int, ram: GuestRAM) throws(Errno) {
    let pageSize = GuestRAM.pageSize
    self.entries = entries
    submissions = try ram.allocatePages(
      (entries * SubmissionQueueEntry.size + pageSize - 1) / pageSize)
    completions = try ram.allocatePages(
      (entries * CompletionQueueEntry.size + pageSize - 1) / pageSize)
    slotPages = try ram.allocatePages(entries - 1)
  }
}

/// One submission/completion queue pair as the host drives it.
///
/// Command IDs are slot numbers (0 ..< entries - 1). Each slot owns a page
/// for its PRP list or SGL segment, so `submit` and `reap` allocate nothing.
/// One thread uses a queue.
public final class NVMeQueue {
  public let id: UInt16
  /// Ring size in entries; at most `entries - 1` commands are outstanding.
  public let entries: Int
  /// MSI-X vector of the completion queue.
  public let vector: Int
  public let completionMode: CompletionMode
  /// Submissions, completions and interrupt wake-ups so far.
  public private(set) var submitted: UInt64 = 0
  public private(set) var completed: UInt64 = 0
  public private(set) var interruptWakeups: UInt64 = 0

  /// Real doorbell writes (MMIO stores or posted messages) for the SQ tail
  /// and the CQ head so far: one per publication without shadow doorbells,
  /// only those the controller's EventIdx asked for with them.
  public var submissionDoorbellRings: UInt64 { sqDoorbell.rings }
  public var completionDoorbellRings: UInt64 { cqDoorbell.rings }
  public var doorbellRings: UInt64 { sqDoorbell.rings &+ cqDoorbell.rings }
  /// Whether this queue's doorbells go through the shadow doorbell page.
  public var usesShadowDoorbells: Bool { sqDoorbell.usesShadow }

  let memory: QueueMemory
  private let doorbells: DoorbellWriter
  private let vectors: InterruptVectors?
  private let client: VFIOUserClient
  /// Fd-less guest RAM: the server's DMA_READ/DMA_WRITE must be answered
  /// while waiting, or it waits for us forever.
  private let servesMessages: Bool
  private let sglSupported: Bool
  private let submissionBase: UnsafeMutableRawPointer
  private let completionBase: UnsafeMutableRawPointer

  private var sqTail = 0
  private var sqTailRung = 0
  private var sqDoorbell: QueueDoorbell
  private var cqDoorbell: QueueDoorbell
  private var cqHead = 0
  private var phase: UInt32 = 1
  /// Free command slots (a stack) and, per slot, whether it is outstanding
  /// and the submitter's tag.
  private var freeSlots: [UInt16]
  private var busy: [Bool]
  private var tags: [UInt64]

  init(
    id: UInt16, memory: QueueMemory, vector: Int, completionMode: CompletionMode,
    doorbells: DoorbellWriter, shadowPages: ShadowDoorbellPages? = nil,
    vectors: InterruptVectors?, client: VFIOUserClient, servesMessages: Bool, sglSupported: Bool
  ) throws(NVMeHostError) {
    guard memory.entries >= 2, memory.entries <= 65536,
      let submissionBase = memory.submissions.bytes.baseAddress,
      let completionBase = memory.completions.bytes.baseAddress
    else { throw .invalidArgument("queue of \(memory.entries) entries") }
    self.id = id
    self.entries = memory.entries
    self.memory = memory
    self.vector = vector
    self.completionMode = completionMode
    self.doorbells = doorbells
    // The admin queue always rings the real doorbell.
    let pages = id == 0 ? nil : shadowPages
    sqDoorbell = QueueDoorbell(slot: Int(id) &* 2, pages: pages)
    cqDoorbell = QueueDoorbell(slot: Int(id) &* 2 &+ 1, pages: pages)
    self.vectors = vectors
    self.client = client
    self.servesMessages = servesMessages
    self.sglSupported = sglSupported
    self.submissionBase = submissionBase
    self.completionBase = completionBase
    let capacity = memory.entries - 1
    freeSlots = (0..<capacity).reversed().map { UInt16($0) }
    busy = [Bool](repeating: false, count: capacity)
    tags = [UInt64](repeating: 0, count: capacity)
    // A fresh ring: every phase tag 0, so the first pass (phase 1) finds nothing stale.
    memory.submissions.bytes.initializeMemory(as: UInt8.self, repeating: 0)
    memory.completions.bytes.initializeMemory(as: UInt8.self, repeating: 0)
  }

  /// Commands that may be outstanding at once.
  public var capacity: Int { entries - 1 }
  /// Commands submitted and not yet completed.
  public var outstanding: Int { capacity - freeSlots.count }

  // MARK: submitting

  /// Places `command` in the submission queue; the tail doorbell is rung now
  /// unless `ring` is false (then `ringDoorbell()` publishes a batch).
  /// Returns the command ID.
  @discardableResult
  public func submit(_ command: NVMeCommand, tag: UInt64 = 0, ring: Bool = true)
    throws(NVMeHostError) -> UInt16
  {
    guard let slot = freeSlots.last else { throw .queueFull }
    var entry = SubmissionQueueEntry(
      opcode: command.opcode, commandIdentifier: slot, namespaceIdentifier: command.namespaceID,
      cdw10: command.cdw10, cdw11: command.cdw11, cdw12: command.cdw12, cdw13: command.cdw13,
      cdw14: command.cdw14, cdw15: command.cdw15)
    entry.prp1 = command.prp1
    entry.prp2 = command.prp2
    if let data = command.data {
      switch command.dataPointer {
      case .prp: try describePRP(data, slot: Int(slot), into: &entry)
      case .sgl: try describeSGL(data, into: &entry)
      }
    }
    freeSlots.removeLast()
    try place(entry, slot: slot, tag: tag, ring: ring)
    return slot
  }

  /// Submits an entry built by the caller (its data pointer included); only
  /// the command ID is filled in. For tests of scattered PRP lists and SGL
  /// segments.
  @discardableResult
  public func submit(entry: SubmissionQueueEntry, tag: UInt64 = 0, ring: Bool = true)
    throws(NVMeHostError) -> UInt16
  {
    guard let slot = freeSlots.popLast() else { throw .queueFull }
    var entry = entry
    entry.commandIdentifier = slot
    try place(entry, slot: slot, tag: tag, ring: ring)
    return slot
  }

  private func place(_ entry: SubmissionQueueEntry, slot: UInt16, tag: UInt64, ring: Bool)
    throws(NVMeHostError)
  {
    busy[Int(slot)] = true
    tags[Int(slot)] = tag
    entry.encode(
      into: UnsafeMutableRawBufferPointer(
        start: submissionBase + sqTail &* SubmissionQueueEntry.size,
        count: SubmissionQueueEntry.size))
    sqTail = sqTail &+ 1 == entries ? 0 : sqTail &+ 1
    submitted &+= 1
    if ring { try ringDoorbell() }
  }

  /// Publishes the submission queue tail, if it moved: rings the doorbell,
  /// or, with shadow doorbells, writes the shadow and rings only when the
  /// controller's EventIdx asks for it.
  public func ringDoorbell() throws(NVMeHostError) {
    guard sqTail != sqTailRung else { return }
    sqTailRung = sqTail
    do {
      if sqDoorbell.publish(UInt32(sqTail)) {
        try doorbells.ring(slot: sqDoorbell.slot, value: UInt32(sqTail))
      }
    } catch {
      throw .transport(error)
    }
  }

  /// PRP1 is the buffer; PRP2 the second page, or this slot's list page
  /// holding every page after the first.
  private func describePRP(_ data: GuestBuffer, slot: Int, into entry: inout SubmissionQueueEntry)
    throws(NVMeHostError)
  {
    let pageSize = GuestRAM.pageSize
    guard data.count > 0, data.address & 3 == 0 else {
      throw .invalidArgument("PRP data must be non-empty and dword aligned")
    }
    let first = min(data.count, pageSize &- Int(data.address & UInt64(pageSize &- 1)))
    entry.prp1 = data.address
    let remaining = data.count &- first
    let next = data.address &+ UInt64(first)
    if remaining == 0 {
      entry.prp2 = 0
    } else if remaining <= pageSize {
      entry.prp2 = next
    } else {
      let pages = (remaining &+ pageSize &- 1) / pageSize
      guard pages <= pageSize / 8 else {
        throw .invalidArgument("transfer needs more than one PRP list page")
      }
      let list = memory.slotPages.bytes.baseAddress.map { $0 + slot &* pageSize }
      guard let list else { throw .invalidArgument("no PRP list page") }
      for index in 0..<pages {
        let page = next &+ UInt64(index &* pageSize)
        list.storeBytes(of: page.littleEndian, toByteOffset: index &* 8, as: UInt64.self)
      }
      entry.prp2 = memory.slotPages.address &+ UInt64(slot &* pageSize)
    }
  }

  private func describeSGL(_ data: GuestBuffer, into entry: inout SubmissionQueueEntry)
    throws(NVMeHostError)
  {
    guard sglSupported else { throw .unsupported("the controller does not support SGLs") }
    guard data.count > 0, let length = UInt32(exactly: data.count) else {
      throw .invalidArgument("SGL data block of \(data.count) bytes")
    }
    entry.dataPointerType = .sglContiguousMetadata
    entry.sglDescriptor = SGLDescriptor(address: data.address, length: length, type: .dataBlock)
  }

  // MARK: completing

  /// True when the next completion queue entry carries the current phase.
  @inline(__always)
  public var hasCompletion: Bool {
    let dword3 = cshim_load_acquire_u32(
      (completionBase + cqHead &* CompletionQueueEntry.size + 12).assumingMemoryBound(
        to: UInt32.self))
    return (UInt32(littleEndian: dword3) >> 16) & 1 == phase
  }

  /// Hands every new completion to `handler` (at most `limit`), frees the
  /// slots first so the handler may submit again, then rings the head
  /// doorbell. Returns how many were reaped.
  @discardableResult
  public func reap(limit: Int = .max, _ handler: (NVMeCompletion) -> Void) throws(NVMeHostError)
    -> Int
  {
    try reap(limit: limit, ringHead: true, handler)
  }

  func reap(limit: Int, ringHead: Bool, _ handler: (NVMeCompletion) -> Void)
    throws(NVMeHostError) -> Int
  {
    var count = 0
    while count < limit, hasCompletion {
      let entry = completionBase + cqHead &* CompletionQueueEntry.size
      // The acquire load in `hasCompletion` orders these after the phase tag.
      let dword3 = UInt32(littleEndian: entry.load(fromByteOffset: 12, as: UInt32.self))
      let dw0 = UInt32(littleEndian: entry.load(fromByteOffset: 0, as: UInt32.self))
      let dw1 = UInt32(littleEndian: entry.load(fromByteOffset: 4, as: UInt32.self))
      let dword2 = UInt32(littleEndian: entry.load(fromByteOffset: 8, as: UInt32.self))
      cqHead &+= 1
      if cqHead == entries {
        cqHead = 0
        phase ^= 1
      }
      count &+= 1
      let cid = Int(dword3 & 0xFFFF)
      guard Int(dword2 & 0xFFFF) < entries, cid < busy.count, busy[cid] else {
        throw .protocolViolation("completion for command \(cid) that is not outstanding")
      }
      busy[cid] = false
      freeSlots.append(UInt16(cid))
      completed &+= 1
      handler(
        NVMeCompletion(
          commandID: UInt16(cid), tag: tags[cid],
          status: NVMeStatus(encoded: UInt16(truncatingIfNeeded: dword3 >> 17)), dw0: dw0,
          dw1: dw1))
    }
    if count > 0 && ringHead {
      do {
        if cqDoorbell.publish(UInt32(cqHead)) {
          try doorbells.ring(slot: cqDoorbell.slot, value: UInt32(cqHead))
        }
      } catch {
        throw .transport(error)
      }
    }
    return count
  }

  /// Waits until a completion is ready (spinning or sleeping on the vector,
  /// per `completionMode`); false when `timeoutMilliseconds` passed first.
  public func waitForCompletion(timeoutMilliseconds: Int) throws(NVMeHostError) -> Bool {
    if hasCompletion { return true }
    let deadline = MonotonicClock.nanoseconds() &+ UInt64(max(0, timeoutMilliseconds)) &* 1_000_000
    switch completionMode {
    case .poll:
      var spins = 0
      var nextHangUpCheck: UInt64 = 0
      while true {
        if servesMessages { try serveMessages() }
        if hasCompletion { return true }
        spins &+= 1
        guard spins & 0x3FF == 0 else { continue }
        let now = MonotonicClock.nanoseconds()
        if now >= deadline { return false }
        // Nothing else touches the socket while a polling host waits: a
        // server that died shows only as the socket's hang-up.
        if now >= nextHangUpCheck {
          nextHangUpCheck = now &+ 50_000_000
          try checkHangUp()
        }
      }
    case .interrupt:
      guard let vectors else { throw .unsupported("interrupt mode without MSI-X eventfds") }
      while true {
        // Clear first, then look: a completion posted after the look signals
        // the vector again, so no wake-up is lost.
        vectors.consume(vector)
        if hasCompletion { return true }
        let now = MonotonicClock.nanoseconds()
        guard now < deadline else { return false }
        let milliseconds = Int32(clamping: (deadline &- now &+ 999_999) / 1_000_000)
        // The socket too: messages to serve, or the server's hang-up.
        switch vectors.wait(
          vector, socket: client.connection.socket, timeoutMilliseconds: milliseconds)
        {
        case .vector: interruptWakeups &+= 1
        case .socket: try serveMessages()
        case .timeout: continue
        }
      }
    }
  }

  /// Waits for and reaps completions until at least `minimum` were handled;
  /// throws `.timeout` when they do not come in time.
  @discardableResult
  public func process(
    minimum: Int = 1, timeoutMilliseconds: Int, _ handler: (NVMeCompletion) -> Void
  ) throws(NVMeHostError) -> Int {
    var handled = 0
    while handled < minimum {
      guard try waitForCompletion(timeoutMilliseconds: timeoutMilliseconds) else {
        throw .timeout("completion on queue \(id)")
      }
      handled &+= try reap(handler)
    }
    return handled
  }

  /// Throws `.transport(.connectionReset)` when the server hung up.
  private func checkHangUp() throws(NVMeHostError) {
    let events = (try? client.connection.socket.poll(for: [], timeout: .immediate)) ?? .hangUp
    if !events.intersection([.hangUp, .error, .invalid]).isEmpty {
      throw .transport(.connectionReset)
    }
  }

  private func serveMessages() throws(NVMeHostError) {
    do {
      try client.pump()
    } catch {
      throw .transport(error)
    }
  }

  // MARK: reset

  /// After the controller dropped the queue (reset): every command still
  /// outstanding is handed to `handler` as aborted by the host, exactly once.
  func abandon(_ handler: (NVMeCompletion) -> Void) {
    for cid in busy.indices where busy[cid] {
      busy[cid] = false
      freeSlots.append(UInt16(cid))
      handler(
        NVMeCompletion(
          commandID: UInt16(cid), tag: tags[cid], status: NVMeCompletion.abortedByHost,
          abortedByHost: true))
    }
  }
}
