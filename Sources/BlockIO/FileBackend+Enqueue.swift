import BackendContract
import Glibc
import POSIX

/// Turning requests into kernel requests or helper jobs.
extension FileBackend {
  /// Prepares `request` for the next `submit`. For reads and writes the
  /// iovec array itself (not only the memory it points at) must stay valid
  /// until `submit` has run: io_submit and io_uring_enter read it.
  public func enqueue(_ request: BlockRequest) {
    statistics.submitted &+= 1
    // Keep arrival order: while anything waits for a slot, newcomers wait too.
    if !backlog.isEmpty || table.freeCount == 0 {
      backlog.append(request)
      return
    }
    start(request)
  }

  /// Moves waiting requests into slots freed since.
  func startBacklog() {
    backlog.start(while: { table.freeCount > 0 }, start)
  }

  private func start(_ request: BlockRequest) {
    guard let index = table.acquire() else { return }  // callers checked freeCount
    table.slot(index).pointee = Slot(tag: request.tag, operation: request.operation)
    let result: Int32? =
      if closed { EBADF } else {
        switch request.operation {
        case .read, .write: prepareTransfer(index, request)
        case .flush: prepareFlush(index)
        case .discard, .writeZeroes: prepareRange(index, request)
        case .copy(let source): prepareCopy(index, request, source: source)
        }
      }
    if let result { finishEarly(index, result) }
  }

  /// nil when queued; else the request's result.
  private func prepareTransfer(_ index: Int32, _ request: BlockRequest) -> Int32? {
    let isWrite = request.operation == .write
    if isWrite && isReadOnly { return EROFS }
    let vectors = request.iovecs
    let shape = IOVecShape(vectors, alignment: alignment)
    guard let total = shape.total, fits(request.offset, total) else { return EIO }
    if total == 0 { return 0 }
    if shape.hasNullBase { return EFAULT }
    let mask = UInt64(alignment &- 1)
    if (request.offset | total) & mask != 0 { return EINVAL }

    let slot = table.slot(index)
    let offset = Int64(request.offset)  // fits() bounded it by size <= Int64.max
    slot.pointee.length = total
    slot.pointee.offset = offset
    slot.pointee.iovecs = vectors
    var kernelRequest = KernelRequest(offset: offset)
    if shape.isAligned && vectors.count <= Linux.maxIOVecs {
      kernelRequest.kind = isWrite ? .writev : .readv
      kernelRequest.address = UnsafeMutableRawPointer(vectors.baseAddress)
      kernelRequest.length = vectors.count
    } else {
      // One read(2) moves at most about 2 GiB (MAX_RW_COUNT); io_uring's length is 32-bit.
      guard total <= UInt64(Int32.max), let buffer = bounces.take(Int(total)),
        let base = buffer.baseAddress
      else { return ENOMEM }
      slot.pointee.bounce = buffer
      statistics.bounced &+= 1
      if isWrite { vectors.gather(into: base) }
      kernelRequest.kind = isWrite ? .write : .read
      kernelRequest.address = base
      kernelRequest.length = Int(total)
    }
    if isWrite && request.forceUnitAccess {
      if fuaMode == .syncAfterWrite {
        slot.pointee.syncAfterWrite = true
      } else {
        kernelRequest.rwFlags = Linux.rwfDataSync
        slot.pointee.usesDataSyncFlag = true
      }
    }
    prepareKernel(index, kernelRequest)
    return nil
  }

  /// A write the kernel took only in part (a full filesystem takes what
  /// fits and refuses the rest only on the next call): sends the rest, from
  /// a bounce buffer holding the whole write, so the request ends with what
  /// the kernel says about it (ENOSPC, EDQUOT, or done) instead of a bare
  /// EIO. False when that is not possible (no progress, no buffer).
  func resubmitRest(_ index: Int32, moved: Int) -> Bool {
    let slot = table.slot(index)
    guard slot.pointee.operation == .write, moved > 0, UInt64(moved) < slot.pointee.length
    else { return false }
    if slot.pointee.bounce == nil {
      guard let buffer = bounces.take(Int(slot.pointee.length)), let base = buffer.baseAddress
      else { return false }
      slot.pointee.iovecs.gather(into: base)
      slot.pointee.bounce = buffer
      statistics.bounced &+= 1
    }
    guard let base = slot.pointee.bounce?.baseAddress else { return false }
    slot.pointee.written &+= moved
    slot.pointee.length &-= UInt64(moved)
    slot.pointee.offset &+= Int64(moved)
    let rest = KernelRequest(
      kind: .write, address: base + slot.pointee.written, length: Int(slot.pointee.length),
      offset: slot.pointee.offset,
      rwFlags: slot.pointee.usesDataSyncFlag ? Linux.rwfDataSync : 0)
    prepareKernel(index, rest)
    return true
  }

  private func prepareFlush(_ index: Int32) -> Int32? {
    if isReadOnly { return 0 }  // nothing of ours to make durable
    if flushMode == .helper {
      queueJob(index, .dataSync)
      return nil
    }
    prepareKernel(index, KernelRequest(kind: .dataSync))
    return nil
  }

  private func prepareRange(_ index: Int32, _ request: BlockRequest) -> Int32? {
    if isReadOnly { return EROFS }
    guard fits(request.offset, request.length) else { return EIO }
    if request.length == 0 { return 0 }
    let kind: SyncWorker.Kind = request.operation == .discard ? .discard : .writeZeroes
    queueJob(index, kind, offset: request.offset, length: request.length)
    return nil
  }

  /// On the helper thread, like the other calls that block (see
  /// `SyncWorker+Copy.swift`); O_DIRECT needs all three values aligned.
  private func prepareCopy(_ index: Int32, _ request: BlockRequest, source: UInt64) -> Int32? {
    if isReadOnly { return EROFS }
    guard fits(request.offset, request.length), fits(source, request.length) else { return EIO }
    if request.length == 0 { return 0 }
    let mask = UInt64(alignment &- 1)
    if (request.offset | source | request.length) & mask != 0 { return EINVAL }
    let kind = SyncWorker.Kind.copy(source: source, durable: request.forceUnitAccess)
    queueJob(index, kind, offset: request.offset, length: request.length)
    return nil
  }

  func queueJob(_ index: Int32, _ kind: SyncWorker.Kind, offset: UInt64 = 0, length: UInt64 = 0) {
    workerJobs.append(SyncWorker.Job(slot: index, kind: kind, offset: offset, length: length))
  }

  /// `[offset, offset + length)` lies inside the image.
  private func fits(_ offset: UInt64, _ length: UInt64) -> Bool {
    let (end, overflow) = offset.addingReportingOverflow(length)
    return !overflow && end <= size
  }

  /// Parks a result for the next reap and makes sure the eventfd says so.
  func finishEarly(_ index: Int32, _ errno: Int32) {
    table.slot(index).pointee.errno = errno
    ready.push(index)
    if !readySignaled {
      readySignaled = true
      signalEventFD()
    }
  }

  func signalEventFD() {
    guard !closed else { return }  // the descriptor is gone
    EventFD.signal(eventFD)
  }
}
