import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// A host driver in miniature, talking to a controller directly (no socket):
/// guest RAM is a `WindowedGuestMemory`, the doorbell page a plain allocation,
/// and every step is one `poll()` of the controller.
final class ControllerHarness {
  static let ramBase: UInt64 = 0x1000_0000
  static let ramSize = 8 << 20
  /// Fixed guest addresses inside RAM.
  static let adminSQ = ramBase
  static let adminCQ = ramBase + 0x1_0000
  static let dataBase = ramBase + 0x10_0000

  let memory = WindowedGuestMemory([
    (base: ControllerHarness.ramBase, size: ControllerHarness.ramSize)
  ])
  let doorbellPage = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
  let controller: NVMeController
  let backends: [MemoryBackend]
  /// What each namespace really talks to: `backends[i]` behind a recorder.
  let recorders: [TestBackend]
  var interrupts: [UInt16] = []
  var now: UInt64 = 1_000
  /// The controller's fine clock (nanoseconds), for interrupt coalescing.
  var nanoseconds: UInt64 = 5_000_000

  struct Queue {
    var id: UInt16
    var sqBase: UInt64
    var cqBase: UInt64
    var entries: Int
    /// CQ size when it differs from the SQ's.
    var cqEntries: Int? = nil
    var sqTail = 0
    var cqHead = 0
    var phase = true
  }
  var queues: [UInt16: Queue] = [:]
  /// Completions `execute` popped that belonged to other commands (AERs).
  var stray: [CompletionQueueEntry] = []
  private var nextCID: UInt16 = 1

  /// `namespaceIDs` (default 1, 2, ...) lets a test leave gaps: inactive NSIDs.
  init(
    namespaceSizes: [UInt64] = [1 << 20], blockSize: Int = 512, readOnly: Set<Int> = [],
    settings: ControllerSettings = ControllerSettings(ioQueues: 4, maxQueueEntries: 256),
    namespaceIDs: [UInt32]? = nil
  ) throws {
    var backends: [MemoryBackend] = []
    var recorders: [TestBackend] = []
    var namespaces: [Namespace] = []
    for (index, size) in namespaceSizes.enumerated() {
      let backend = try #require(MemoryBackend(size: size))
      let recorder = TestBackend(backend)
      let nsid = namespaceIDs?[index] ?? UInt32(index + 1)
      backends.append(backend)
      recorders.append(recorder)
      namespaces.append(
        try #require(
          Namespace(
            id: nsid, backend: recorder, blockSize: blockSize,
            readOnly: readOnly.contains(Int(nsid)), identifierSeed: settings.serialNumber)))
    }
    self.backends = backends
    self.recorders = recorders
    doorbellPage.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 4096)
    var clockSource: (() -> UInt64)?
    var fineClockSource: (() -> UInt64)?
    controller = NVMeController(
      settings: settings, namespaces: namespaces, doorbells: doorbellPage, doorbellBytes: 4096,
      clock: { clockSource?() ?? 0 }, fineClock: { fineClockSource?() ?? 0 })
    clockSource = { [unowned self] in self.now }
    fineClockSource = { [unowned self] in self.nanoseconds }
    controller.memory = memory
    controller.interruptHandler = { [unowned self] in self.interrupts.append($0) }
  }

  deinit { doorbellPage.deallocate() }

  // MARK: registers

  func read32(_ offset: UInt64) -> UInt32 {
    var value: UInt32 = 0
    withUnsafeMutableBytes(of: &value) { controller.readRegisters(offset: offset, into: $0) }
    return UInt32(littleEndian: value)
  }

  func read64(_ offset: UInt64) -> UInt64 {
    var value: UInt64 = 0
    withUnsafeMutableBytes(of: &value) { controller.readRegisters(offset: offset, into: $0) }
    return UInt64(littleEndian: value)
  }

  @discardableResult
  func write32(_ offset: UInt64, _ value: UInt32) -> Bool {
    withUnsafeBytes(of: value.littleEndian) { controller.writeRegisters(offset: offset, from: $0) }
  }

  func write64(_ offset: UInt64, _ value: UInt64) {
    _ = withUnsafeBytes(of: value.littleEndian) {
      controller.writeRegisters(offset: offset, from: $0)
    }
  }

  var csts: UInt32 { read32(RegisterOffset.csts) }

  /// CC value Linux writes: IOSQES 6, IOCQES 4, MPS 4 KiB, NVM, enabled.
  static let enableCC: UInt32 = 6 << 16 | 4 << 20 | 1

  /// Programs the admin queue and enables the controller.
  func enable(adminEntries: Int = 32, cc: UInt32 = ControllerHarness.enableCC) {
    let size = UInt32(adminEntries - 1)
    // A fresh CQ is zeroed, as a driver allocates it: no stale phase tags.
    memory.poke(Self.adminCQ, [UInt8](repeating: 0, count: adminEntries * 16))
    write32(RegisterOffset.aqa, size << 16 | size)
    write64(RegisterOffset.asq, Self.adminSQ)
    write64(RegisterOffset.acq, Self.adminCQ)
    write32(RegisterOffset.cc, cc)
    queues[0] = Queue(id: 0, sqBase: Self.adminSQ, cqBase: Self.adminCQ, entries: adminEntries)
  }

  // MARK: doorbells and commands

  /// Shadow Doorbell and EventIdx buffers once the host configured them
  /// (`configureShadowDoorbells`): I/O queue doorbells then go there first,
  /// and to the page only when EventIdx asks, as Linux does.
  var shadowBuffers: (doorbells: UInt64, eventIndexes: UInt64)?
  /// Writes that reached the doorbell page (the real doorbell).
  var realDoorbellWrites = 0

  func ringDoorbell(_ slot: Int, _ value: UInt32) {
    if let shadow = shadowBuffers, slot >= 2 {
      let old = memory.peek32(shadow.doorbells + UInt64(slot * 4))
      memory.poke32(shadow.doorbells + UInt64(slot * 4), value)
      let eventIndex = memory.peek32(shadow.eventIndexes + UInt64(slot * 4))
      guard
        EventIndex.needsEvent(
          eventIndex: UInt16(truncatingIfNeeded: eventIndex),
          new: UInt16(truncatingIfNeeded: value), old: UInt16(truncatingIfNeeded: old))
      else { return }
    }
    realDoorbellWrites += 1
    doorbellPage.storeBytes(of: value, toByteOffset: slot * 4, as: UInt32.self)
  }

  func makeCID() -> UInt16 {
    defer { nextCID = nextCID == 0xFFFE ? 1 : nextCID + 1 }
    return nextCID
  }

  /// Places `sqe` in queue `qid` and rings its tail doorbell (no poll).
  func push(_ sqe: SubmissionQueueEntry, queue qid: UInt16 = 0) {
    guard var queue = queues[qid] else { fatalError("no queue \(qid)") }
    memory.poke(queue.sqBase + UInt64(queue.sqTail * 64), sqe.encode())
    queue.sqTail = (queue.sqTail + 1) % queue.entries
    queues[qid] = queue
    ringDoorbell(Int(qid) * 2, UInt32(queue.sqTail))
  }

  /// The next completion on `qid`'s CQ if its phase says it is new; consumes
  /// it and rings the head doorbell.
  func popCompletion(queue qid: UInt16 = 0) -> CompletionQueueEntry? {
    guard var queue = queues[qid] else { return nil }
    let bytes = memory.peek(queue.cqBase + UInt64(queue.cqHead * 16), 16)
    guard let entry = CompletionQueueEntry(bytes: bytes), entry.phase == queue.phase else {
      return nil
    }
    queue.cqHead += 1
    if queue.cqHead == queue.cqEntries ?? queue.entries {
      queue.cqHead = 0
      queue.phase.toggle()
    }
    queues[qid] = queue
    ringDoorbell(Int(qid) * 2 + 1, UInt32(queue.cqHead))
    return entry
  }

  /// Submits and polls until the completion arrives (bounded).
  func run(_ sqe: SubmissionQueueEntry, queue qid: UInt16 = 0) -> CompletionQueueEntry? {
    var command = sqe
    if command.commandIdentifier == 0 { command.commandIdentifier = makeCID() }
    push(command, queue: qid)
    for _ in 0..<16 {
      controller.poll()
      if let entry = popCompletion(queue: qid) { return entry }
    }
    return nil
  }

  /// Runs an admin command and returns its status (or a marker on timeout).
  func status(_ sqe: SubmissionQueueEntry, queue qid: UInt16 = 0) -> NVMeStatus? {
    run(sqe, queue: qid)?.status
  }

  /// Identify into a data page at `dataBase`; returns the 4 KiB.
  func identify(cns: UInt8, nsid: UInt32 = 0, csi: UInt8 = 0) -> (NVMeStatus?, [UInt8]) {
    let sqe = SubmissionQueueEntry(
      opcode: AdminOpcode.identify.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid,
      prp1: Self.dataBase, cdw10: UInt32(cns), cdw11: UInt32(csi) << 24)
    memory.poke(Self.dataBase, [UInt8](repeating: 0xCC, count: 4096))
    let status = self.status(sqe)
    return (status, memory.peek(Self.dataBase, 4096))
  }

  /// Creates I/O queue pair `qid` (CQ then SQ) with `entries` each.
  func createIOQueuePair(_ qid: UInt16, entries: Int = 64, vector: UInt16? = nil) -> Bool {
    let cqBase = Self.ramBase + 0x2_0000 + UInt64(qid) * 0x1_0000
    let sqBase = Self.ramBase + 0x8_0000 + UInt64(qid) * 0x1_0000
    let size = UInt32(entries - 1) << 16 | UInt32(qid)
    let vectorBits = UInt32(vector ?? qid) << 16
    memory.poke(cqBase, [UInt8](repeating: 0, count: entries * 16))
    let cq = status(
      SubmissionQueueEntry(
        opcode: AdminOpcode.createIOCompletionQueue.rawValue, commandIdentifier: 0, prp1: cqBase,
        cdw10: size, cdw11: vectorBits | 0b11))
    let sq = status(
      SubmissionQueueEntry(
        opcode: AdminOpcode.createIOSubmissionQueue.rawValue, commandIdentifier: 0, prp1: sqBase,
        cdw10: size, cdw11: UInt32(qid) << 16 | 1))
    guard cq == .success, sq == .success else { return false }
    queues[qid] = Queue(id: qid, sqBase: sqBase, cqBase: cqBase, entries: entries)
    return true
  }

  /// Enable plus one I/O queue pair: the state most tests start from.
  /// `translation: false` makes guest RAM untranslatable before anything is
  /// mapped, so rings and data all take the copy (bounce) path.
  static func ready(
    namespaceSizes: [UInt64] = [1 << 20], blockSize: Int = 512, readOnly: Set<Int> = [],
    settings: ControllerSettings = ControllerSettings(ioQueues: 4, maxQueueEntries: 256),
    translation: Bool = true
  ) throws -> ControllerHarness {
    let harness = try ControllerHarness(
      namespaceSizes: namespaceSizes, blockSize: blockSize, readOnly: readOnly,
      settings: settings)
    harness.memory.allowsTranslation = translation
    harness.enable()
    harness.controller.poll()
    #expect(harness.csts & 1 == 1)
    #expect(harness.createIOQueuePair(1))
    return harness
  }

  // MARK: I/O helpers

  func readWrite(
    _ opcode: NVMOpcode, nsid: UInt32 = 1, slba: UInt64, blocks: Int, prp1: UInt64,
    prp2: UInt64 = 0, cdw12Flags: UInt32 = 0, queue: UInt16 = 1
  ) -> NVMeStatus? {
    status(
      SubmissionQueueEntry(
        opcode: opcode.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid, prp1: prp1,
        prp2: prp2, cdw10: UInt32(truncatingIfNeeded: slba),
        cdw11: UInt32(truncatingIfNeeded: slba >> 32), cdw12: UInt32(blocks - 1) | cdw12Flags),
      queue: queue)
  }
}
