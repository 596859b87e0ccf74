import BackendContract
import Glibc

extension NVMeController {
  var ioLimits: DataPointerLimits {
    DataPointerLimits(
      pageSize: cc.pageSize, maxTransferLength: settings.maxTransferBytes,
      allowSGL: settings.sglSupported)
  }

  /// Runs one NVM command: validate, then hand it to the namespace's backend.
  /// Every failure before that completes the command with its status here.
  func executeIO(_ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue) {
    do throws(NVMeStatus) {
      guard sqe.fusedOperation == .normal else { throw .invalidField }  // FUSES = 0
      guard let opcode = NVMOpcode(rawValue: sqe.opcode) else { throw .invalidOpcode }
      switch opcode {
      case .read: try transfer(sqe, kind: .read, queue: sq)
      case .write: try transfer(sqe, kind: .write, queue: sq)
      case .compare: try transfer(sqe, kind: .compare, queue: sq)
      case .verify: try transfer(sqe, kind: .verify, queue: sq)
      case .flush: try flush(sqe, queue: sq)
      case .writeZeroes: try writeZeroes(sqe, queue: sq)
      case .datasetManagement: try datasetManagement(sqe, queue: sq)
      case .copy: try copy(sqe, queue: sq)
      default: throw .invalidOpcode
      }
    } catch {
      complete(
        sqid: sq.id, cid: sqe.commandIdentifier, status: error,
        namespaceID: sqe.namespaceIdentifier, lba: UInt64(sqe.cdw11) << 32 | UInt64(sqe.cdw10))
    }
  }

  func lookup(_ nsid: UInt32) throws(NVMeStatus) -> (index: Int, namespace: Namespace) {
    guard let index = namespaceIndex(nsid) else { throw .invalidNamespaceOrFormat }
    return (index, namespaces[index])
  }

  /// Read, Write, Compare, Verify: SLBA in CDW10-11, NLB (0-based) in CDW12.
  private func transfer(
    _ sqe: SubmissionQueueEntry, kind: IOKind, queue sq: SubmissionQueue
  ) throws(NVMeStatus) {
    guard let memory else { throw .dataTransferError }
    let (nsIndex, ns) = try lookup(sqe.namespaceIdentifier)
    let slba = UInt64(sqe.cdw11) << 32 | UInt64(sqe.cdw10)
    let blocks = UInt64(sqe.cdw12 & 0xFFFF) + 1
    let forceUnitAccess = sqe.cdw12 & (1 << 30) != 0
    if kind == .write && ns.isReadOnly { throw .namespaceWriteProtected }
    guard ns.contains(slba: slba, count: blocks) else { throw .lbaOutOfRange }
    let (offset, length) = ns.byteRange(slba: slba, count: blocks)
    // MDTS bounds data transfers; VSL (reported equal to MDTS) bounds Verify.
    guard length <= UInt64(settings.maxTransferBytes) else { throw .invalidField }
    let byteCount = Int(length)

    let slot = inFlight.allocate()
    var context = IOContext(
      submissionQueueID: sq.id, commandID: sqe.commandIdentifier,
      namespaceID: ns.id, startingLBA: slba, kind: kind, pendingParts: 1, bytes: length)
    if kind == .read || kind == .write {
      context.counters = Unmanaged.passUnretained(ns.counters)
      latencySampleCountdown &-= 1
      if latencySampleCountdown <= 0 {
        latencySampleCountdown = Self.latencySampleInterval
        context.fetchedAt = fineClock()
      }
    }
    let iovecs = inFlight.iovecs(slot)
    var iovecCount = 0
    // Owned here until the table adopts it below; a throw drops (frees) it.
    var bounce: BounceBuffer?
    do throws(NVMeStatus) {
      switch kind {
      case .read, .write:
        // The common case first: PRP1 (and PRP2 as the second page) straight
        // into iovecs, no segment array. Anything else (a PRP list, SGLs,
        // memory without a host mapping) takes the general path below.
        if sqe.dataPointerType == .prp,
          let short = try PRPList.shortSegments(
            prp1: sqe.prp1, prp2: sqe.prp2, length: byteCount, pageSize: cc.pageSize,
            maxTransferLength: settings.maxTransferBytes),
          let count = zeroCopyVectors(short, into: iovecs, write: kind == .read, memory: memory)
        {
          iovecCount = count
          break
        }
        let direction: TransferDirection = kind == .read ? .controllerToHost : .hostToController
        let segments = try sqe.dataSegments(
          length: byteCount, direction: direction, limits: ioLimits, memory: memory)
        guard segments.totalLength >= byteCount else { throw .dataSGLLengthInvalid }
        if let count = zeroCopyVectors(segments, into: iovecs, write: kind == .read, memory: memory)
        {
          iovecCount = count
        } else {
          var buffer = BounceBuffer(byteCount: byteCount)
          if kind == .write {
            try DataTransfer.copyFromGuest(segments: segments, into: buffer.bytes, memory: memory)
          } else {
            buffer.segments = segments
          }
          iovecs[0] = iovec(iov_base: buffer.bytes.baseAddress, iov_len: byteCount)
          iovecCount = 1
          bounce = consume buffer
        }
      case .compare, .verify:
        var buffer = BounceBuffer(byteCount: byteCount)
        if kind == .compare {
          buffer.segments = try sqe.dataSegments(
            length: byteCount, direction: .hostToController, limits: ioLimits, memory: memory)
        }
        iovecs[0] = iovec(iov_base: buffer.bytes.baseAddress, iov_len: byteCount)
        iovecCount = 1
        bounce = consume buffer
      default:
        throw .internalError
      }
    } catch {
      inFlight.release(slot)
      throw error
    }
    inFlight[slot] = context
    if let bounce = consume bounce { inFlight.adopt(bounce, slot: slot) }
    let operation: BlockOperation = kind == .write ? .write : .read
    enqueue(
      operation, namespaceIndex: nsIndex, offset: offset, length: length, slot: slot,
      iovecCount: iovecCount, forceUnitAccess: forceUnitAccess && kind == .write)
  }

  /// Host pointers for PRP1's and PRP2's segments, or nil when one is not in
  /// fd-mapped memory.
  private func zeroCopyVectors(
    _ short: PRPList.ShortSegments, into iovecs: UnsafeMutablePointer<iovec>, write: Bool,
    memory: any GuestMemory
  ) -> Int? {
    guard short.count > 0, short.count <= InFlightTable.maxIovecs,
      let first = memory.translate(short.first.address, length: short.first.length, write: write)
    else { return nil }
    iovecs[0] = iovec(iov_base: first.baseAddress, iov_len: short.first.length)
    guard short.count == 2 else { return 1 }
    guard
      let second = memory.translate(short.second.address, length: short.second.length, write: write)
    else { return nil }
    iovecs[1] = iovec(iov_base: second.baseAddress, iov_len: short.second.length)
    return 2
  }

  /// Host pointers for every segment, or nil when any segment is not in
  /// fd-mapped memory or there are too many (the caller then bounces).
  private func zeroCopyVectors(
    _ segments: [DataSegment], into iovecs: UnsafeMutablePointer<iovec>, write: Bool,
    memory: any GuestMemory
  ) -> Int? {
    guard segments.count <= InFlightTable.maxIovecs else { return nil }
    for (index, segment) in segments.enumerated() {
      let base: UnsafeMutableRawPointer?
      if segment.isBitBucket {
        guard write, segment.length <= discardBuffer.count else { return nil }
        base = discardBuffer.baseAddress
      } else {
        guard let view = memory.translate(segment.address, length: segment.length, write: write)
        else { return nil }
        base = view.baseAddress
      }
      iovecs[index] = iovec(iov_base: base, iov_len: segment.length)
    }
    return segments.count
  }

  /// Flush: one namespace, or every namespace for NSID FFFFFFFFh (VWC says
  /// the broadcast form is supported).
  private func flush(_ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue) throws(NVMeStatus) {
    let targets: [Int]
    if sqe.namespaceIdentifier == 0xFFFF_FFFF {
      targets = Array(namespaces.indices)
    } else {
      targets = [try lookup(sqe.namespaceIdentifier).index]
    }
    try start(sqe, queue: sq, kind: .flush, parts: targets.count) { slot in
      for index in targets {
        enqueue(.flush, namespaceIndex: index, offset: 0, length: 0, slot: slot)
      }
    }
  }

  /// Write Zeroes: not bounded by MDTS (WZSL = 0).
  private func writeZeroes(
    _ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue
  ) throws(NVMeStatus) {
    let (nsIndex, ns) = try lookup(sqe.namespaceIdentifier)
    let slba = UInt64(sqe.cdw11) << 32 | UInt64(sqe.cdw10)
    let blocks = UInt64(sqe.cdw12 & 0xFFFF) + 1
    guard !ns.isReadOnly else { throw .namespaceWriteProtected }
    guard ns.contains(slba: slba, count: blocks) else { throw .lbaOutOfRange }
    let (offset, length) = ns.byteRange(slba: slba, count: blocks)
    try start(sqe, queue: sq, kind: .writeZeroes, parts: 1, lba: slba) { slot in
      enqueue(.writeZeroes, namespaceIndex: nsIndex, offset: offset, length: length, slot: slot)
    }
  }

  /// Dataset Management: with AD set, deallocate each range; the other
  /// attributes are hints and need nothing.
  private func datasetManagement(
    _ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue
  ) throws(NVMeStatus) {
    guard let memory else { throw .dataTransferError }
    let (nsIndex, ns) = try lookup(sqe.namespaceIdentifier)
    let count = Int(sqe.cdw10 & 0xFF) + 1
    let deallocate = sqe.cdw11 & (1 << 2) != 0
    let segments = try sqe.dataSegments(
      length: count * 16, direction: .hostToController, limits: ioLimits, memory: memory)
    let list = try DataTransfer.copyFromGuest(
      segments: segments, length: count * 16, memory: memory)
    guard list.count == count * 16 else { throw .dataTransferError }
    guard deallocate else {
      try start(sqe, queue: sq, kind: .deallocate, parts: 0) { _ in }
      return
    }
    guard !ns.isReadOnly else { throw .namespaceWriteProtected }
    var ranges: [(offset: UInt64, length: UInt64)] = []
    ranges.reserveCapacity(count)
    for index in 0..<count {
      let blocks = UInt64(DataPage.read(UInt32.self, from: list, at: index * 16 + 4) ?? 0)
      let slba = DataPage.read(UInt64.self, from: list, at: index * 16 + 8) ?? 0
      guard blocks > 0 else { continue }
      guard ns.contains(slba: slba, count: blocks) else { throw .lbaOutOfRange }
      ranges.append(ns.byteRange(slba: slba, count: blocks))
    }
    try start(sqe, queue: sq, kind: .deallocate, parts: ranges.count) { slot in
      for range in ranges {
        enqueue(
          .discard, namespaceIndex: nsIndex, offset: range.offset, length: range.length,
          slot: slot)
      }
    }
  }

  /// A command with no data buffer: `parts` backend requests, or none (then
  /// it completes now).
  func start(
    _ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue, kind: IOKind, parts: Int,
    lba: UInt64 = 0, _ issue: (Int) -> Void
  ) throws(NVMeStatus) {
    guard parts > 0 else {
      complete(sqid: sq.id, cid: sqe.commandIdentifier, status: .success)
      return
    }
    let slot = inFlight.allocate()
    inFlight[slot] = IOContext(
      submissionQueueID: sq.id, commandID: sqe.commandIdentifier,
      namespaceID: sqe.namespaceIdentifier, startingLBA: lba, kind: kind, pendingParts: parts)
    issue(slot)
  }

  func enqueue(
    _ operation: BlockOperation, namespaceIndex: Int, offset: UInt64, length: UInt64, slot: Int,
    iovecCount: Int = 0, forceUnitAccess: Bool = false
  ) {
    let request = BlockRequest(
      operation: operation, offset: offset, length: length,
      iovecs: UnsafeMutableBufferPointer(start: inFlight.iovecs(slot), count: iovecCount),
      forceUnitAccess: forceUnitAccess, tag: UInt64(slot))
    namespaces[namespaceIndex].backend.enqueue(request)
    markBackendForSubmit(namespaceIndex)
  }

  /// One backend request finished; the command completes with its last part.
  func ioPartCompleted(_ completion: BlockCompletion) {
    if completion.tag == Self.selfTestTag {
      selfTestReadCompleted(completion)
      return
    }
    let slot = Int(truncatingIfNeeded: completion.tag)
    guard inFlight.isLive(slot) else { return }
    var context = inFlight[slot]
    if !completion.succeeded && context.status.isSuccess {
      context.status = status(forErrno: completion.errno, kind: context.kind)
    }
    context.pendingParts &-= 1
    guard context.pendingParts == 0 else {
      inFlight[slot] = context
      return
    }
    // Out of the table before the guest is touched (see `InFlightTable.vacate`).
    let bounce = inFlight.vacate(slot)
    finish(context, bounce: bounce)
  }

  /// `bounce`: a bounced command's buffer, freed when this returns.
  private func finish(_ context: IOContext, bounce: borrowing BounceBuffer?) {
    // A reset is draining: the command completes nowhere, so its data need
    // not reach the guest either. Copying it could take DMA messages while
    // the client waits for its reset (or CC write) to be answered.
    guard lifecycle.postsCompletions else { return }
    var status = context.status
    let bytes: UnsafeMutableRawBufferPointer?
    let segments: [DataSegment]
    switch bounce {
    case .some(let buffer): (bytes, segments) = (buffer.bytes, buffer.segments)
    case .none: (bytes, segments) = (nil, [])
    }
    if status.isSuccess, let bytes, let memory {
      do throws(NVMeStatus) {
        switch context.kind {
        case .read:
          try DataTransfer.copyToGuest(
            UnsafeRawBufferPointer(bytes), segments: segments, memory: memory)
        case .compare:
          let host = try DataTransfer.copyFromGuest(
            segments: segments, length: bytes.count, memory: memory)
          if host.count != bytes.count || !host.elementsEqual(bytes) {
            status = .compareFailure
          }
        default: break
        }
      } catch {
        status = error
      }
    }
    if status.isSuccess { account(context) }
    if context.fetchedAt != 0, let counters = context.counters {
      let elapsed = fineClock() &- context.fetchedAt
      // The namespace keeps its counters alive while commands are in flight.
      counters._withUnsafeGuaranteedRef {
        $0.recordLatency(write: context.kind == .write, nanoseconds: elapsed)
      }
    }
    complete(
      sqid: context.submissionQueueID, cid: context.commandID, status: status,
      namespaceID: context.namespaceID, lba: context.startingLBA)
  }

  /// SMART and per-queue counters for a successful command. Host Read
  /// Commands counts Read and Compare, Host Write Commands counts Write;
  /// Data Units Read also counts the blocks Verify reads, and Write Zeroes
  /// counts nowhere (the SMART log's definitions for the NVM command set).
  private func account(_ context: IOContext) {
    switch context.kind {
    case .read, .compare:
      health.hostReadCommands &+= 1
      bytesRead &+= context.bytes
    case .verify:
      bytesRead &+= context.bytes
    case .write:
      health.hostWriteCommands &+= 1
      bytesWritten &+= context.bytes
    case .writeZeroes, .flush, .deallocate, .copy: break
    }
    guard context.kind == .read || context.kind == .write else { return }
    let write = context.kind == .write
    // Each counter set is updated through one call, borrowed, not retained:
    // this runs once per completed I/O.
    context.counters?._withUnsafeGuaranteedRef { $0.count(write: write, bytes: context.bytes) }
    if Int(context.submissionQueueID) < session.submissionQueues.count,
      let sq = session.submissionQueues[Int(context.submissionQueueID)]
    {
      sq.statistics.count(write: write, bytes: context.bytes)
    }
  }

  /// What a backend's errno means to the host. EIO is a media error: a read
  /// that cannot be recovered, or data that could not be committed (a
  /// write, and a Flush that failed to make earlier writes durable). A full
  /// filesystem or quota is Capacity Exceeded, which Linux's nvme driver
  /// reports as ENOSPC.
  private func status(forErrno code: Int32, kind: IOKind) -> NVMeStatus {
    switch code {
    case EIO:
      health.mediaErrors &+= 1
      return kind == .read || kind == .compare || kind == .verify
        ? .unrecoveredReadError : .writeFault
    case ENOSPC, EDQUOT: return .capacityExceeded
    case EROFS: return .namespaceWriteProtected
    default: return .internalError
    }
  }
}
