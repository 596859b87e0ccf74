import NVMe

/// nvme-commands seeds: every admin and I/O command family with valid data
/// pointers (PRP1, PRP1+PRP2, PRP lists that chain, SGL segments), then the
/// hostile situations around them, so mutation starts from deep states.
enum CommandSeeds {
  /// Guest addresses in the main window (`CommandRig` puts the queues below).
  static let data: UInt64 = 0x20000
  static let lists: UInt64 = 0x30000
  static let segments: UInt64 = 0x31000
  /// One namespace, admin queue of 32, two I/O queue pairs of 64.
  static let standard: (UInt8, UInt8, UInt8) = (0, 31, 0x16)

  static func admin(
    _ opcode: AdminOpcode, nsid: UInt32 = 0, prp1: UInt64 = 0, cdw10: UInt32 = 0,
    cdw11: UInt32 = 0, cdw12: UInt32 = 0, cdw13: UInt32 = 0
  ) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: opcode.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid, prp1: prp1,
      cdw10: cdw10, cdw11: cdw11, cdw12: cdw12, cdw13: cdw13)
  }

  static func io(
    _ opcode: NVMOpcode, nsid: UInt32 = 1, slba: UInt64 = 0, blocks: Int = 1, prp1: UInt64 = data,
    prp2: UInt64 = 0, flags: UInt8 = 0, cdw12Flags: UInt32 = 0
  ) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: opcode.rawValue, flags: flags, commandIdentifier: 0, namespaceIdentifier: nsid,
      prp1: prp1, prp2: prp2, cdw10: UInt32(truncatingIfNeeded: slba),
      cdw11: UInt32(truncatingIfNeeded: slba >> 32), cdw12: UInt32(blocks - 1) | cdw12Flags)
  }

  /// An I/O command whose DPTR is one SGL descriptor (PSDT 01b).
  static func sgl(_ opcode: NVMOpcode, blocks: Int, _ descriptor: SGLDescriptor)
    -> SubmissionQueueEntry
  {
    var entry = io(opcode, blocks: blocks, flags: 0x40)
    entry.sglDescriptor = descriptor
    return entry
  }

  static var all: [(name: String, bytes: [UInt8])] {
    [
      ("identify-logs-features", identifyLogsFeatures()), ("io-prp", ioPRP()),
      ("io-sgl", ioSGL()), ("io-misc", ioMisc()), ("queues-events", queuesEvents()),
      ("raw-registers", rawRegisters()), ("bounce-hold-reset", bounceHoldReset()),
      ("format", format()), ("failures", failures()), ("reentry", reentry()),
      ("reentry-bounce", reentryBounce()), ("shadow-doorbells", shadowDoorbells()),
      ("copy", copy()),
    ]
  }

  /// Doorbell Buffer Config, then I/O whose doorbells go to the shadow
  /// buffer (the host rings the page only when EventIdx asks), idle turns
  /// that arm EventIdx, a bad shadow value, and a second configuration.
  static func shadowDoorbells() -> [UInt8] {
    let shadow: UInt64 = 0x32000
    let events: UInt64 = 0x33000
    var input = CommandInput(standard)
    input.sqe(dbbuf(shadow, events))
    input.poke(offset: UInt32(data), [UInt8](repeating: 0x3C, count: 4096))
    for round in 0..<6 {
      input.sqe(io(.write, slba: UInt64(round * 8), blocks: 8), queue: 1)
      input.sqe(io(.read, slba: UInt64(round * 8), blocks: 8), queue: 2)
      input.turns(3)
    }
    input.poke(offset: UInt32(shadow) + 8, le(UInt32(0xFFFF)))
    input.turns(2)
    input.sqe(dbbuf(events, shadow))
    input.sqe(io(.flush), queue: 1)
    return input.bytes
  }

  static func dbbuf(_ shadow: UInt64, _ events: UInt64) -> SubmissionQueueEntry {
    SubmissionQueueEntry(
      opcode: AdminOpcode.doorbellBufferConfig.rawValue, commandIdentifier: 0, prp1: shadow,
      prp2: events)
  }

  static func identifyLogsFeatures() -> [UInt8] {
    var input = CommandInput(standard)
    for cns: UInt32 in [1, 0, 2, 3, 5, 6, 7, 8] {
      input.sqe(admin(.identify, nsid: cns == 1 || cns == 2 ? 0 : 1, prp1: data, cdw10: cns))
    }
    for log: UInt32 in [1, 2, 3, 4, 5] {
      // Lower dword count 0x7F (512 bytes) and the log page identifier.
      input.sqe(admin(.getLogPage, prp1: data, cdw10: 0x7F << 16 | log))
    }
    for fid: UInt32 in [1, 2, 4, 5, 6, 7, 8, 9, 0xA, 0xB, 0xE, 0x16] {
      input.sqe(admin(.getFeatures, prp1: data, cdw10: fid, cdw11: 1))
    }
    input.sqe(admin(.setFeatures, cdw10: 7, cdw11: 0x0003_0003))
    input.sqe(admin(.setFeatures, cdw10: 0xB, cdw11: 0x0000_0307))
    input.poke(offset: UInt32(data), le(UInt64(1_700_000_000_000)))
    input.sqe(admin(.setFeatures, prp1: data, cdw10: 0xE))
    input.sqe(admin(.setFeatures, cdw10: 4, cdw11: 0x0150))
    input.sqe(admin(.keepAlive))
    return input.bytes
  }

  static func ioPRP() -> [UInt8] {
    var input = CommandInput(standard)
    input.poke(offset: UInt32(data), [UInt8](repeating: 0x5A, count: 512))
    input.sqe(io(.write, blocks: 1), queue: 1)
    // PRP1 with an offset, PRP2 the next page.
    input.sqe(io(.write, slba: 8, blocks: 8, prp1: data + 0x800, prp2: data + 0x1000), queue: 1)
    // 12 KiB: PRP1 and a list of two entries.
    input.poke(offset: UInt32(lists), CommandInput.entries([data + 0x1000, data + 0x2000]))
    input.sqe(io(.read, slba: 16, blocks: 24, prp1: data, prp2: lists), queue: 2)
    // 20 KiB with the list at a page's end: one entry, then a chain.
    input.poke(
      offset: UInt32(lists + 0xFF0), CommandInput.entries([data + 0x1000, lists + 0x1000]))
    input.poke(
      offset: UInt32(lists + 0x1000),
      CommandInput.entries([data + 0x2000, data + 0x3000, data + 0x4000]))
    input.sqe(io(.read, slba: 0, blocks: 40, prp1: data, prp2: lists + 0xFF0), queue: 1)
    input.sqe(io(.read, slba: 511, blocks: 1), queue: 1)
    return input.bytes
  }

  static func ioSGL() -> [UInt8] {
    var input = CommandInput(standard)
    input.sqe(
      sgl(.write, blocks: 2, SGLDescriptor(address: data, length: 1024, type: .dataBlock)), queue: 1
    )
    input.poke(
      offset: UInt32(segments),
      CommandInput.descriptors([
        SGLDescriptor(address: data, length: 512, type: .dataBlock),
        SGLDescriptor(address: 0, length: 512, type: .bitBucket),
        SGLDescriptor(address: segments + 0x100, length: 32, type: .lastSegment),
      ]))
    input.poke(
      offset: UInt32(segments + 0x100),
      CommandInput.descriptors([
        SGLDescriptor(address: data + 0x1000, length: 512, type: .dataBlock),
        SGLDescriptor(address: data + 0x3000, length: 512, type: .dataBlock),
      ]))
    input.sqe(
      sgl(.read, blocks: 4, SGLDescriptor(address: segments, length: 48, type: .segment)), queue: 1)
    input.sqe(
      sgl(
        .write, blocks: 4, SGLDescriptor(address: segments + 0x100, length: 32, type: .lastSegment)),
      queue: 2)
    return input.bytes
  }

  static func ioMisc() -> [UInt8] {
    var input = CommandInput((0x0A, 31, 0x16))  // three namespaces, the second read-only
    input.sqe(io(.flush), queue: 1)
    input.sqe(io(.flush, nsid: 0xFFFF_FFFF), queue: 1)
    input.sqe(io(.writeZeroes, slba: 4, blocks: 16), queue: 1)
    input.poke(
      offset: UInt32(data),
      [0, 0, 0, 0] + le(UInt32(8)) + le(UInt64(0)) + [0, 0, 0, 0] + le(UInt32(4)) + le(UInt64(64)))
    input.sqe(
      SubmissionQueueEntry(
        opcode: NVMOpcode.datasetManagement.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
        prp1: data, cdw10: 1, cdw11: 1 << 2), queue: 1)
    input.sqe(io(.write, slba: 2, blocks: 1, prp1: data + 0x1000, cdw12Flags: 1 << 30), queue: 2)
    input.sqe(io(.compare, slba: 2, blocks: 1, prp1: data + 0x1000), queue: 2)
    input.sqe(io(.verify, slba: 0, blocks: 64), queue: 2)
    input.sqe(io(.write, nsid: 2, blocks: 1), queue: 1)
    input.sqe(io(.read, nsid: 3, slba: 7, blocks: 2), queue: 1)
    return input.bytes
  }

  /// Copy: two format-0 ranges with FUA, then the refusals (format 1, too
  /// many ranges, a range past the end, the read-only namespace).
  static func copy() -> [UInt8] {
    var input = CommandInput((0x0A, 31, 0x16))  // three namespaces, the second read-only
    func range(_ slba: UInt64, _ blocks: UInt16) -> [UInt8] {
      [UInt8](repeating: 0, count: 8) + le(slba) + le(blocks - 1) + [UInt8](repeating: 0, count: 14)
    }
    input.poke(offset: UInt32(data), range(0, 4) + range(8, 2) + range(0xFFFF_FFF0, 32))
    func copy(nsid: UInt32 = 1, to sdlba: UInt32, count: UInt32, cdw12: UInt32 = 0)
      -> SubmissionQueueEntry
    {
      SubmissionQueueEntry(
        opcode: NVMOpcode.copy.rawValue, commandIdentifier: 0, namespaceIdentifier: nsid,
        prp1: data, cdw10: sdlba, cdw12: (count - 1) | cdw12)
    }
    input.sqe(io(.write, slba: 0, blocks: 16, prp1: data + 0x1000), queue: 1)
    input.sqe(copy(to: 32, count: 2, cdw12: 1 << 30), queue: 1)
    input.sqe(copy(to: 33, count: 1), queue: 2)  // overlapping its own source range
    input.sqe(copy(to: 64, count: 2, cdw12: 1 << 8), queue: 1)
    input.sqe(copy(to: 64, count: 129), queue: 1)
    input.sqe(copy(to: 64, count: 3), queue: 2)
    input.sqe(copy(nsid: 2, to: 64, count: 1), queue: 1)
    input.sqe(io(.read, slba: 32, blocks: 6), queue: 1)
    return input.bytes
  }

  static func queuesEvents() -> [UInt8] {
    var input = CommandInput((0, 31, 0x15))  // one I/O pair of 64
    for cid: UInt16 in 0xA000..<0xA004 {
      var aer = admin(.asynchronousEventRequest)
      aer.commandIdentifier = cid
      input.sqe(aer, flags: 0)
    }
    input.sqe(admin(.setFeatures, cdw10: 0xB, cdw11: 0x0000_0107))
    input.sqe(
      admin(.createIOCompletionQueue, prp1: 0x60000, cdw10: 15 << 16 | 3, cdw11: 3 << 16 | 3))
    input.sqe(
      admin(.createIOSubmissionQueue, prp1: 0x61000, cdw10: 15 << 16 | 3, cdw11: 3 << 16 | 1))
    input.sqe(io(.read, blocks: 1), queue: 2)
    input.doorbell(slot: 9, 200)  // CQ 4 head: no such queue
    input.doorbell(slot: 2, 100)  // SQ 1 tail past its size
    input.sqe(admin(.abort, cdw10: 1 << 16 | 1))
    input.sqe(admin(.deleteIOCompletionQueue, cdw10: 3))
    input.sqe(admin(.deleteIOSubmissionQueue, cdw10: 3))
    input.sqe(admin(.deleteIOCompletionQueue, cdw10: 3))
    input.sqe(admin(.getLogPage, prp1: data, cdw10: 0x7F << 16 | 1))
    return input.bytes
  }

  /// Raw mode: the input programs AQA/ASQ/ACQ/CC itself, shuts down, resets.
  static func rawRegisters() -> [UInt8] {
    var input = CommandInput((0x40, 7, 0))
    input.register(0x24, 7 << 16 | 7)
    input.register64(0x28, 0x2000)
    input.register64(0x30, 0x3000)
    input.register(0x14, 6 << 16 | 4 << 20 | 1)
    input.sqe(admin(.identify, prp1: data, cdw10: 1))
    input.register(0x0C, 1)
    input.register(0x10, 1)
    input.register(0x14, 6 << 16 | 4 << 20 | 1 << 14 | 1)
    input.register(0x14, 0)
    input.register(0x14, 6 << 16 | 4 << 20 | 0x7 << 7 | 1)  // MPS beyond CAP.MPSMAX
    input.register(0x14, 0)
    input.register(0x1000, 1)
    return input.bytes
  }

  /// Copy paths (no host pointers), held completions, reset mid-flight.
  static func bounceHoldReset() -> [UInt8] {
    var input = CommandInput((0x20, 31, 0x16))
    input.poke(offset: UInt32(lists), CommandInput.entries([data + 0x1000, data + 0x2000]))
    input.sqe(io(.write, blocks: 24, prp1: data, prp2: lists), queue: 1)
    input.sqe(
      sgl(.read, blocks: 2, SGLDescriptor(address: data, length: 1024, type: .dataBlock)), queue: 2)
    input.event(3)
    input.sqe(io(.read, blocks: 8), queue: 1)
    input.sqe(admin(.deleteIOSubmissionQueue, cdw10: 1))
    input.event(1)
    input.sqe(io(.write, blocks: 8), queue: 2)
    input.event(4)
    input.event(3)
    return input.bytes
  }

  static func format() -> [UInt8] {
    var input = CommandInput(standard)
    input.sqe(admin(.formatNVM, nsid: 1, cdw10: 1))
    input.sqe(io(.write, blocks: 2), queue: 1)
    input.sqe(admin(.identify, nsid: 1, prp1: data, cdw10: 0))
    input.sqe(admin(.formatNVM, nsid: 0xFFFF_FFFF, cdw10: 0))
    input.sqe(io(.read, blocks: 16), queue: 2)
    return input.bytes
  }

  /// The client's interference from inside a copy (event 8): a DMA map
  /// change inside an SGL segment read, the neighbour window unmapped inside
  /// a DSM range read, a shutdown inside Identify's data copy, and last a
  /// device reset while a PRP list is read.
  static func reentry() -> [UInt8] {
    var input = CommandInput(standard)
    input.poke(offset: UInt32(lists), CommandInput.entries([data + 0x1000, data + 0x2000]))
    input.poke(
      offset: UInt32(segments),
      CommandInput.descriptors([SGLDescriptor(address: data, length: 1024, type: .dataBlock)]))
    input.event(8, [0])
    input.sqe(
      sgl(.write, blocks: 2, SGLDescriptor(address: segments, length: 16, type: .lastSegment)),
      queue: 1)
    input.event(8, [4])
    input.sqe(
      SubmissionQueueEntry(
        opcode: NVMOpcode.datasetManagement.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
        prp1: data, cdw10: 0, cdw11: 1 << 2), queue: 2)
    input.event(8, [3])
    input.sqe(admin(.identify, prp1: data, cdw10: 1))
    input.event(8, [1])
    input.sqe(io(.read, blocks: 24, prp1: data, prp2: lists), queue: 1)
    return input.bytes
  }

  /// Without host pointers every access is a copy, counted by event 8's
  /// argument / 5: a DMA map change inside a write's CQE (after the SQ fetch
  /// and the data read), then a device reset inside a read's copy to the
  /// guest (after the SQ fetch and the PRP list read): the use-after-free of
  /// seed-fdless-data-nested-reset, without sockets.
  static func reentryBounce() -> [UInt8] {
    var input = CommandInput((0x20, 31, 0x16))
    input.poke(offset: UInt32(lists), CommandInput.entries([data + 0x1000, data + 0x2000]))
    input.event(8, [2 * 5 + 0])
    input.sqe(io(.write, blocks: 1), queue: 2)
    input.event(8, [1 * 5 + 1])
    input.sqe(io(.read, blocks: 24, prp1: data, prp2: lists), queue: 1)
    return input.bytes
  }

  /// Backend errors, DMA map changes under held I/O, a window taken away.
  static func failures() -> [UInt8] {
    var input = CommandInput((0, 31, 0x12))  // two I/O queue pairs of 32
    input.event(2, [1])  // EIO
    input.sqe(io(.write, blocks: 1), queue: 1)
    input.sqe(io(.read, blocks: 1), queue: 1)
    input.event(2, [2])  // ENOSPC
    input.sqe(io(.writeZeroes, blocks: 4), queue: 1)
    input.event(2, [0])
    input.event(3)
    input.sqe(io(.read, blocks: 8, prp1: 0x80000), queue: 2)  // the neighbour window
    input.event(7)
    input.event(0)
    input.event(3)
    input.sqe(io(.write, blocks: 8, prp1: 0x10_0000_0000), queue: 2)  // read-only window
    input.sqe(io(.read, blocks: 8, prp1: 0x10_0000_0000), queue: 2)
    input.event(5)
    for _ in 0..<40 { input.sqe(io(.flush), queue: 1) }
    input.event(5)
    input.turns(3)
    return input.bytes
  }
}
