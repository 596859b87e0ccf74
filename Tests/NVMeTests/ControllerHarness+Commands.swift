import BlockIO
import Testing

@testable import NVMe

/// Command builders and multi-completion helpers on top of the harness.
extension ControllerHarness {
  /// Page `n` of the data area; page 0 and 1 are where Identify, Get Log
  /// Page and feature data land, so tests put I/O buffers from page 16 on.
  static func page(_ n: Int) -> UInt64 { dataBase + UInt64(n) * 4096 }

  /// Scratch pages for PRP lists and SGL segments, far from data.
  static let listArea = 1500

  // MARK: completions

  /// Pops every completion the host can see on `qid` right now.
  func drain(queue qid: UInt16 = 0) -> [CompletionQueueEntry] {
    var entries: [CompletionQueueEntry] = []
    while let entry = popCompletion(queue: qid) { entries.append(entry) }
    return entries
  }

  /// Submits `sqe` (a fresh CID unless one is set), polls, and returns its
  /// completion; other completions popped meanwhile go to `stray`.
  func execute(_ sqe: SubmissionQueueEntry, queue qid: UInt16 = 0) -> CompletionQueueEntry? {
    var command = sqe
    if command.commandIdentifier == 0 { command.commandIdentifier = makeCID() }
    push(command, queue: qid)
    for _ in 0..<16 {
      controller.poll()
      for entry in drain(queue: qid) {
        if entry.commandIdentifier == command.commandIdentifier {
          return entry
        }
        stray.append(entry)
      }
    }
    return nil
  }

  /// Parks `count` Asynchronous Event Requests with CIDs from 0xA000 and
  /// returns the CIDs; none of them completes here.
  @discardableResult
  func parkAERs(_ count: Int, firstCID: UInt16 = 0xA000) -> [UInt16] {
    let cids = (0..<count).map { firstCID + UInt16($0) }
    for cid in cids {
      push(
        SubmissionQueueEntry(
          opcode: AdminOpcode.asynchronousEventRequest.rawValue, commandIdentifier: cid))
    }
    controller.poll()
    return cids
  }

  /// Event completions (AER CIDs at or above 0xA000) seen so far, oldest
  /// first, including any still waiting in the admin CQ.
  func takeEvents() -> [CompletionQueueEntry] {
    stray += drain()
    let events = stray.filter { $0.commandIdentifier >= 0xA000 }
    stray.removeAll { $0.commandIdentifier >= 0xA000 }
    return events
  }

  // MARK: admin

  func admin(
    _ opcode: AdminOpcode, nsid: UInt32 = 0, prp1: UInt64 = 0, prp2: UInt64 = 0,
    cdw10: UInt32 = 0, cdw11: UInt32 = 0, cdw12: UInt32 = 0, cdw13: UInt32 = 0,
    cdw14: UInt32 = 0, flags: UInt8 = 0
  ) -> CompletionQueueEntry? {
    execute(
      SubmissionQueueEntry(
        opcode: opcode.rawValue, flags: flags, commandIdentifier: 0, namespaceIdentifier: nsid,
        prp1: prp1, prp2: prp2, cdw10: cdw10, cdw11: cdw11, cdw12: cdw12, cdw13: cdw13,
        cdw14: cdw14))
  }

  /// Get Log Page of `bytes` (a multiple of 4, at most 8 KiB) into pages 0-1,
  /// which are first filled with 0xCC; returns the status and all 8 KiB.
  func getLogPage(
    _ lid: UInt8, bytes: Int, offset: UInt64 = 0, nsid: UInt32 = 0, rae: Bool = false,
    cdw14: UInt32 = 0
  ) -> (NVMeStatus?, [UInt8]) {
    memory.poke(Self.dataBase, [UInt8](repeating: 0xCC, count: 8192))
    let numd = UInt32(bytes / 4 - 1)
    let entry = admin(
      .getLogPage, nsid: nsid, prp1: Self.dataBase, prp2: Self.dataBase + 4096,
      cdw10: UInt32(lid) | (rae ? 1 << 15 : 0) | (numd & 0xFFFF) << 16, cdw11: numd >> 16,
      cdw12: UInt32(truncatingIfNeeded: offset), cdw13: UInt32(truncatingIfNeeded: offset >> 32),
      cdw14: cdw14)
    return (entry?.status, memory.peek(Self.dataBase, 8192))
  }

  func getFeature(
    _ fid: UInt8, select: UInt8 = 0, cdw11: UInt32 = 0, nsid: UInt32 = 0,
    prp1: UInt64 = ControllerHarness.dataBase
  ) -> CompletionQueueEntry? {
    admin(
      .getFeatures, nsid: nsid, prp1: prp1, cdw10: UInt32(fid) | UInt32(select) << 8, cdw11: cdw11)
  }

  func setFeature(
    _ fid: UInt8, cdw11: UInt32 = 0, save: Bool = false, nsid: UInt32 = 0,
    prp1: UInt64 = ControllerHarness.dataBase
  ) -> CompletionQueueEntry? {
    admin(
      .setFeatures, nsid: nsid, prp1: prp1, cdw10: UInt32(fid) | (save ? 1 << 31 : 0),
      cdw11: cdw11)
  }

  // MARK: I/O

  /// A Read/Write/Compare/Verify SQE (PRPs).
  static func rw(
    _ opcode: NVMOpcode, nsid: UInt32 = 1, slba: UInt64, blocks: Int, prp1: UInt64 = 0,
    prp2: UInt64 = 0, cdw12Flags: UInt32 = 0, cid: UInt16 = 0
  ) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: opcode.rawValue, commandIdentifier: cid, namespaceIdentifier: nsid, prp1: prp1,
      prp2: prp2, cdw10: UInt32(truncatingIfNeeded: slba),
      cdw11: UInt32(truncatingIfNeeded: slba >> 32),
      cdw12: UInt32(truncatingIfNeeded: blocks - 1) | cdw12Flags)
  }

  /// The same command with DPTR as an SGL descriptor (PSDT 01b).
  static func rwSGL(
    _ opcode: NVMOpcode, nsid: UInt32 = 1, slba: UInt64, blocks: Int,
    descriptor: SGLDescriptor
  ) -> SubmissionQueueEntry {
    var sqe = rw(opcode, nsid: nsid, slba: slba, blocks: blocks)
    sqe.dataPointerType = .sglContiguousMetadata
    sqe.sglDescriptor = descriptor
    return sqe
  }

  /// Pushes `count` reads past the end of namespace 1 (each fails with LBA
  /// Out of Range) on `qid` and polls once; returns their command IDs.
  func pushFailingReads(_ count: Int, queue qid: UInt16) -> [UInt16] {
    let cids = (0..<count).map { _ in makeCID() }
    for cid in cids { push(Self.rw(.read, slba: 9000, blocks: 1, cid: cid), queue: qid) }
    controller.poll()
    return cids
  }

  func io(_ sqe: SubmissionQueueEntry, queue qid: UInt16 = 1) -> NVMeStatus? {
    execute(sqe, queue: qid)?.status
  }

  /// PRP1/PRP2 for a buffer of `length` bytes at the page-aligned `address`,
  /// with a PRP list at `listArea` when more than two pages are needed.
  func prps(_ address: UInt64, length: Int) -> (UInt64, UInt64) {
    let pages = (length + 4095) / 4096
    if pages <= 1 { return (address, 0) }
    if pages == 2 { return (address, address + 4096) }
    let list = Self.page(Self.listArea)
    memory.pokeEntries(list, (1..<pages).map { address + UInt64($0) * 4096 })
    return (address, list)
  }

  /// Writes `data` at `slba` from a buffer at page `page`; returns the status.
  func write(_ data: [UInt8], nsid: UInt32 = 1, slba: UInt64, page: Int = 16, blockSize: Int = 512)
    -> NVMeStatus?
  {
    let address = Self.page(page)
    memory.poke(address, data)
    let (prp1, prp2) = prps(address, length: data.count)
    return io(
      Self.rw(
        .write, nsid: nsid, slba: slba, blocks: data.count / blockSize, prp1: prp1, prp2: prp2))
  }

  /// Reads `blocks` at `slba` into page `page` (poisoned first with 0xEE).
  func read(nsid: UInt32 = 1, slba: UInt64, blocks: Int, page: Int = 64, blockSize: Int = 512)
    -> (NVMeStatus?, [UInt8])
  {
    let address = Self.page(page)
    let length = blocks * blockSize
    memory.poke(address, [UInt8](repeating: 0xEE, count: length))
    let (prp1, prp2) = prps(address, length: length)
    let status = io(Self.rw(.read, nsid: nsid, slba: slba, blocks: blocks, prp1: prp1, prp2: prp2))
    return (status, memory.peek(address, length))
  }

  /// The namespace's stored bytes (through its memory backend).
  func stored(nsid: Int = 1, offset: Int, count: Int) -> [UInt8] {
    Array(backends[nsid - 1].bytes[offset..<(offset + count)])
  }

  /// The raw entry at `slot` of `qid`'s CQ ring, consuming nothing.
  func rawCompletion(queue qid: UInt16, slot: Int) -> CompletionQueueEntry? {
    guard let queue = queues[qid] else { return nil }
    return CompletionQueueEntry(bytes: memory.peek(queue.cqBase + UInt64(slot * 16), 16))
  }
}

/// Little-endian field of a returned data buffer.
func field<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T {
  DataPage.read(T.self, from: bytes, at: offset) ?? 0
}
