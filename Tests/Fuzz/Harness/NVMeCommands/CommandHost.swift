import NVMe
import TestSupport

/// The host driver's half of the queues: where each ring lives, the SQ tails
/// and CQ heads and phases it keeps, and which queues exist, learned the way
/// a driver learns it (from its own register writes and from the completions
/// of its Create/Delete commands).
final class CommandHost {
  struct SubmissionRing {
    var base: UInt64
    var entries: Int
    var tail = 0
  }

  struct CompletionRing {
    var base: UInt64
    var entries: Int
    var head = 0
    var phase = true
  }

  let controller: NVMeController
  let memory: WindowedGuestMemory
  let doorbells: UnsafeMutableRawPointer
  private(set) var submissionRings: [UInt16: SubmissionRing] = [:]
  private(set) var completionRings: [UInt16: CompletionRing] = [:]
  /// Admin commands that change the queue set, by CID, until they complete.
  private var pendingAdmin: [UInt16: SubmissionQueueEntry] = [:]
  private var aqa: UInt32 = 0
  private var asq: UInt64 = 0
  private var acq: UInt64 = 0
  private var enabled = false
  /// The Doorbell Buffer Config the controller accepted: I/O queue doorbells
  /// then go to the shadow buffer, and to the page when EventIdx asks (as
  /// Linux's driver does).
  private(set) var shadowBuffers: (doorbells: UInt64, eventIndexes: UInt64)?
  private var nextCID: UInt16 = 1
  private(set) var completions = 0
  private(set) var errorCompletions = 0

  init(controller: NVMeController, memory: WindowedGuestMemory, doorbells: UnsafeMutableRawPointer)
  {
    self.controller = controller
    self.memory = memory
    self.doorbells = doorbells
  }

  var queueIDs: [UInt16] { submissionRings.keys.sorted() }

  func makeCID() -> UInt16 {
    defer { nextCID = nextCID == 0xFFFF ? 1 : nextCID + 1 }
    return nextCID
  }

  // MARK: registers

  func readRegister(_ offset: UInt64) -> UInt32 {
    var value: UInt32 = 0
    withUnsafeMutableBytes(of: &value) { controller.readRegisters(offset: offset, into: $0) }
    return UInt32(littleEndian: value)
  }

  /// A register write as the host does it: its own bookkeeping first (a
  /// driver zeroes its admin CQ before setting CC.EN), then the write.
  @discardableResult
  func writeRegister(_ offset: UInt64, _ bytes: [UInt8]) -> Bool {
    for part in stride(from: 0, to: bytes.count - 3, by: 4) {
      let value =
        UInt32(bytes[part]) | UInt32(bytes[part + 1]) << 8 | UInt32(bytes[part + 2]) << 16
        | UInt32(bytes[part + 3]) << 24
      shadow(offset &+ UInt64(part), value)
    }
    return bytes.withUnsafeBytes { controller.writeRegisters(offset: offset, from: $0) }
  }

  func write32(_ offset: UInt64, _ value: UInt32) {
    writeRegister(offset, withUnsafeBytes(of: value.littleEndian) { Array($0) })
  }

  func write64(_ offset: UInt64, _ value: UInt64) {
    writeRegister(offset, withUnsafeBytes(of: value.littleEndian) { Array($0) })
  }

  private func shadow(_ offset: UInt64, _ value: UInt32) {
    switch offset {
    case RegisterOffset.aqa: aqa = value
    case RegisterOffset.asq: asq = (asq & ~0xFFFF_FFFF) | UInt64(value)
    case RegisterOffset.asq + 4: asq = (asq & 0xFFFF_FFFF) | UInt64(value) << 32
    case RegisterOffset.acq: acq = (acq & ~0xFFFF_FFFF) | UInt64(value)
    case RegisterOffset.acq + 4: acq = (acq & 0xFFFF_FFFF) | UInt64(value) << 32
    case RegisterOffset.cc:
      let enable = value & 1 != 0
      if enable && !enabled {
        let sqEntries = Int(aqa & 0xFFF) + 1
        let cqEntries = Int(aqa >> 16 & 0xFFF) + 1
        zero(acq & ~0xFFF, cqEntries * CompletionQueueEntry.size)
        submissionRings[0] = SubmissionRing(base: asq & ~0xFFF, entries: sqEntries)
        completionRings[0] = CompletionRing(base: acq & ~0xFFF, entries: cqEntries)
      } else if !enable && enabled {
        forgetQueues()
      }
      enabled = enable
    default: break
    }
  }

  /// The controller was reset behind the registers (transport reset).
  func deviceWasReset() {
    forgetQueues()
    enabled = false
    aqa = 0
    asq = 0
    acq = 0
  }

  private func forgetQueues() {
    submissionRings.removeAll()
    completionRings.removeAll()
    pendingAdmin.removeAll()
    shadowBuffers = nil
  }

  private func zero(_ address: UInt64, _ count: Int) {
    memory.pokeIfMapped(address, [UInt8](repeating: 0, count: count))
  }

  // MARK: submission and completion

  func ringDoorbell(_ slot: Int, _ value: UInt32) {
    guard slot >= 0, slot < 1024 else { return }
    if slot >= 2, let shadow = shadowBuffers, shadowRingSkipsThePage(slot, value, shadow) {
      return
    }
    doorbells.storeBytes(of: value.littleEndian, toByteOffset: slot * 4, as: UInt32.self)
  }

  /// Writes `value` into the shadow slot; true when EventIdx says the real
  /// doorbell need not be rung. Memory that is gone rings the page.
  private func shadowRingSkipsThePage(
    _ slot: Int, _ value: UInt32, _ shadow: (doorbells: UInt64, eventIndexes: UInt64)
  ) -> Bool {
    let offset = UInt64(slot &* 4)
    guard let old = memory.peekIfMapped(shadow.doorbells &+ offset, 4),
      memory.pokeIfMapped(
        shadow.doorbells &+ offset, withUnsafeBytes(of: value.littleEndian) { Array($0) }),
      let event = memory.peekIfMapped(shadow.eventIndexes &+ offset, 4)
    else { return false }
    func u16(_ bytes: [UInt8]) -> UInt16 { UInt16(bytes[0]) | UInt16(bytes[1]) << 8 }
    return !EventIndex.needsEvent(
      eventIndex: u16(event), new: UInt16(truncatingIfNeeded: value), old: u16(old))
  }

  /// Places `sqe` at the tail of SQ `qid` and, unless `ring` is false, rings
  /// the tail doorbell. A ring the host cannot write (an unmapped base the
  /// controller accepted) still gets the doorbell.
  func submit(_ sqe: SubmissionQueueEntry, queue qid: UInt16, ring: Bool = true) {
    guard var sq = submissionRings[qid] else { return }
    if qid == 0 { notePending(sqe) }
    let slot = sq.base &+ UInt64(sq.tail &* SubmissionQueueEntry.size)
    memory.pokeIfMapped(slot, sqe.encode())
    sq.tail = (sq.tail + 1) % max(1, sq.entries)
    submissionRings[qid] = sq
    if ring { ringDoorbell(Int(qid) * 2, UInt32(sq.tail)) }
  }

  /// Rings every SQ tail doorbell with the tail the host keeps.
  func ringAllTails() {
    for (qid, sq) in submissionRings { ringDoorbell(Int(qid) * 2, UInt32(sq.tail)) }
  }

  private func notePending(_ sqe: SubmissionQueueEntry) {
    switch AdminOpcode(rawValue: sqe.opcode) {
    case .createIOCompletionQueue?:
      // A driver hands the controller zeroed CQ memory.
      let entries = Int(sqe.cdw10 >> 16) + 1
      zero(sqe.prp1, min(entries, 4096) * CompletionQueueEntry.size)
      pendingAdmin[sqe.commandIdentifier] = sqe
    case .createIOSubmissionQueue?, .deleteIOSubmissionQueue?, .deleteIOCompletionQueue?,
      .doorbellBufferConfig?:
      pendingAdmin[sqe.commandIdentifier] = sqe
    default: break
    }
  }

  /// Pops every new completion from every CQ and rings the head doorbells.
  func consume() {
    for cqid in completionRings.keys.sorted() {
      guard var cq = completionRings[cqid] else { continue }
      var consumed = 0
      while consumed < cq.entries {
        let address = cq.base &+ UInt64(cq.head &* CompletionQueueEntry.size)
        guard let bytes = memory.peekIfMapped(address, CompletionQueueEntry.size),
          let entry = CompletionQueueEntry(bytes: bytes), entry.phase == cq.phase
        else { break }
        consumed += 1
        cq.head += 1
        if cq.head == cq.entries {
          cq.head = 0
          cq.phase.toggle()
        }
        completions += 1
        if !entry.status.isSuccess { errorCompletions += 1 }
        if cqid == 0 { learn(from: entry) }
      }
      // A queue deleted by `learn` stays deleted.
      guard completionRings[cqid] != nil else { continue }
      completionRings[cqid] = cq
      if consumed > 0 { ringDoorbell(Int(cqid) * 2 + 1, UInt32(cq.head)) }
    }
  }

  private func learn(from entry: CompletionQueueEntry) {
    guard let sqe = pendingAdmin.removeValue(forKey: entry.commandIdentifier),
      entry.status.isSuccess
    else { return }
    let qid = UInt16(truncatingIfNeeded: sqe.cdw10)
    let entries = Int(sqe.cdw10 >> 16) + 1
    switch AdminOpcode(rawValue: sqe.opcode) {
    case .createIOCompletionQueue?:
      completionRings[qid] = CompletionRing(base: sqe.prp1, entries: entries)
    case .createIOSubmissionQueue?:
      submissionRings[qid] = SubmissionRing(base: sqe.prp1, entries: entries)
    case .deleteIOSubmissionQueue?:
      submissionRings[qid] = nil
    case .deleteIOCompletionQueue?:
      completionRings[qid] = nil
    case .doorbellBufferConfig?:
      shadowBuffers = (sqe.prp1, sqe.prp2)
    default: break
    }
  }
}
