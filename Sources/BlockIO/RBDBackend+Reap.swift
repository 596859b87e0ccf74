import BackendContract
import CRBD
import Glibc
import POSIX

/// Collecting librbd's completions and the early finishers, taking a
/// request's next step (a FUA write's flush, a copy's next chunk), and
/// delivering.
extension RBDBackend {
  /// Delivers whatever has finished, without blocking. `deliver` may
  /// enqueue and submit, but must not reap or drain.
  @discardableResult
  public func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    guard !closed else { return 0 }
    // Reset the eventfd first: librbd bumps it after queueing each
    // completion, so one that lands from here on is not missed.
    _ = EventFD.drain(eventFD)
    readySignaled = false
    var delivered = 0
    // Only those parked now; a delivery that parks more signals again.
    for _ in 0..<ready.count {
      guard let index = ready.pop() else { break }
      complete(index, errno: table.slot(index).pointee.errno, deliver)
      delivered &+= 1
    }
    while librbdInFlight > 0 {
      let got = Int(rbd_poll_io_events(image, events, Int32(queueDepth)))
      guard got > 0 else { break }
      librbdInFlight &-= got
      for position in 0..<got {
        guard let completion = events[position] else { continue }
        let result = rbd_aio_get_return_value(completion)
        let index = table.index(of: rbd_aio_get_arg(completion))
        rbd_aio_release(completion)
        if let index, advance(index, result: result, deliver) { delivered &+= 1 }
      }
      if got < queueDepth { break }
    }
    return delivered
  }

  /// Takes slot `index` on after librbd's `result`: its next call, or its
  /// completion. True when it completed.
  private func advance(
    _ index: Int32, result: Int, _ deliver: (BlockCompletion) -> Void
  ) -> Bool {
    let slot = table.slot(index)
    var errno: Int32 = result < 0 ? (result >= -4095 ? Int32(-result) : EIO) : 0
    if errno == 0 {
      switch slot.pointee.step {
      case .transfer where slot.pointee.operation == .read:
        // librbd fills holes with zeroes: anything short is an error.
        if UInt64(result) != slot.pointee.length { errno = EIO }
      case .transfer where slot.pointee.forceUnitAccess:
        return next(index, .flushAfterWrite)
      case .copyRead:
        return next(index, .copyWrite)
      case .copyWrite:
        slot.pointee.copied &+= UInt64(copyPiece(slot.pointee).length)
        if slot.pointee.copied < slot.pointee.length { return next(index, .copyRead) }
        if slot.pointee.forceUnitAccess { return next(index, .flushAfterWrite) }
      default:
        break
      }
    }
    complete(index, errno: errno, deliver)
    return true
  }

  private func next(_ index: Int32, _ step: RBDStep) -> Bool {
    table.slot(index).pointee.step = step
    issue(index)
    return false
  }

  /// Copies a bounced read back, counts, frees the slot, then delivers (so
  /// `deliver` may reuse the slot at once).
  private func complete(_ index: Int32, errno: Int32, _ deliver: (BlockCompletion) -> Void) {
    let slot = table.slot(index).pointee
    if let buffer = slot.buffer {
      if errno == 0 && slot.operation == .read, let base = buffer.baseAddress {
        slot.iovecs.scatter(from: base)
      }
      buffers.give(buffer)
    }
    statistics.completed &+= 1
    if errno != 0 {
      statistics.failed &+= 1
    } else if slot.operation == .read {
      statistics.bytesRead &+= slot.length
    } else if slot.operation != .flush && slot.step != .discard && slot.step != .writeZeroes {
      statistics.bytesWritten &+= slot.length  // a write or a copy
    }
    table.release(index)
    deliver(BlockCompletion(tag: slot.tag, errno: errno))
  }

  /// Submits and delivers until nothing is in flight, sleeping on the
  /// eventfd while librbd works. A dead cluster cannot hold this forever:
  /// the OSD operation timeout fails what it owes.
  public func drain(_ deliver: (BlockCompletion) -> Void) {
    guard !closed else { return }
    while true {
      submit()
      reap(deliver)
      if inFlight == 0 { return }
      if librbdInFlight > 0 && ready.isEmpty {
        _ = try? eventFD.poll(for: .readable, timeout: .forever)
      }
      // Otherwise deliveries queued new work or results: go round again.
    }
  }
}
