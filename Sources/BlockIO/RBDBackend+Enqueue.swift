import BackendContract
import Glibc
import POSIX

/// Checking requests and giving them slots; librbd sees them at `submit`.
extension RBDBackend {
  /// Prepares `request` for the next `submit`. For reads and writes the
  /// iovec array must stay valid until the completion is reaped.
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
    table.slot(index).pointee = RBDSlot(
      tag: request.tag, operation: request.operation, offset: request.offset,
      length: request.length, forceUnitAccess: request.forceUnitAccess)
    let result: Int32? =
      if closed { EBADF } else {
        switch request.operation {
        case .read, .write: prepareTransfer(index, request)
        case .flush: prepareFlush(index)
        case .discard, .writeZeroes: prepareRange(index, request)
        case .copy(let source): prepareCopy(index, request, source: source)
        }
      }
    if let result { finishEarly(index, result) } else { pending.push(index) }
  }

  /// nil when it goes to librbd; else the request's result.
  private func prepareTransfer(_ index: Int32, _ request: BlockRequest) -> Int32? {
    let isWrite = request.operation == .write
    if isWrite && isReadOnly { return EROFS }
    let shape = IOVecShape(request.iovecs, alignment: 1)
    guard let total = shape.total, fits(request.offset, total) else { return EIO }
    if total == 0 { return 0 }
    if shape.hasNullBase { return EFAULT }
    let slot = table.slot(index)
    slot.pointee.length = total
    slot.pointee.iovecs = request.iovecs
    if request.iovecs.count > Self.maxIOVecs {
      // fits() bounded total by size <= Int64.max.
      guard let buffer = buffers.take(Int(total)), let base = buffer.baseAddress else {
        return ENOMEM
      }
      if isWrite { request.iovecs.gather(into: base) }
      slot.pointee.buffer = buffer
      statistics.bounced &+= 1
    }
    return nil
  }

  private func prepareFlush(_ index: Int32) -> Int32? {
    if isReadOnly { return 0 }  // nothing of ours to make durable
    table.slot(index).pointee.step = .flush
    return nil
  }

  private func prepareRange(_ index: Int32, _ request: BlockRequest) -> Int32? {
    if isReadOnly { return EROFS }
    guard fits(request.offset, request.length) else { return EIO }
    if request.length == 0 { return 0 }
    table.slot(index).pointee.step = request.operation == .discard ? .discard : .writeZeroes
    return nil
  }

  /// A copy reads a chunk into a buffer of its own, writes it, and goes on
  /// with the next chunk from `reap`: at most `copyChunk` bytes held.
  private func prepareCopy(_ index: Int32, _ request: BlockRequest, source: UInt64) -> Int32? {
    if isReadOnly { return EROFS }
    guard fits(request.offset, request.length), fits(source, request.length) else { return EIO }
    if request.length == 0 { return 0 }
    let chunk = Int(min(request.length, UInt64(Self.copyChunk)))
    guard let buffer = buffers.take(chunk) else { return ENOMEM }
    let slot = table.slot(index)
    slot.pointee.step = .copyRead
    slot.pointee.source = source
    slot.pointee.buffer = buffer
    // fits() bounded both ends, so these sums cannot overflow.
    slot.pointee.backwards =
      request.offset > source && request.offset < source &+ request.length
    return nil
  }

  /// `[offset, offset + length)` lies inside the image.
  func fits(_ offset: UInt64, _ length: UInt64) -> Bool {
    let (end, overflow) = offset.addingReportingOverflow(length)
    return !overflow && end <= size
  }

  /// Parks a result for the next reap and makes sure the eventfd says so.
  func finishEarly(_ index: Int32, _ errno: Int32) {
    table.slot(index).pointee.errno = errno
    ready.push(index)
    if !readySignaled && !closed {
      readySignaled = true
      EventFD.signal(eventFD)
    }
  }
}
