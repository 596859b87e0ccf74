import BackendContract
import Glibc
import POSIX

/// Collecting results from the kernel, the helper thread and the early
/// finishers, and delivering them.
extension FileBackend {
  /// Delivers whatever has finished, without blocking. `deliver` may
  /// enqueue and submit, but must not reap or drain.
  @discardableResult
  public func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    guard !closed else { return 0 }
    // Reset the eventfd first: anything finishing from here on bumps it
    // again, so no wakeup is lost.
    _ = EventFD.drain(eventFD)
    readySignaled = false
    var delivered = 0
    // Only those parked now; a delivery that parks more signals again.
    for _ in 0..<ready.count {
      guard let index = ready.pop() else { break }
      complete(index, errno: table.slot(index).pointee.errno, deliver)
      delivered &+= 1
    }
    if kernelInFlight > 0 { delivered &+= reapKernel(deliver) }
    if workerOutstanding > 0 { delivered &+= reapWorker(deliver) }
    return delivered
  }

  private func reapKernel(_ deliver: (BlockCompletion) -> Void) -> Int {
    var delivered = 0
    var resubmitted = false
    let got = kernel.reap { index, result in
      let slot = table.slot(index).pointee
      var errno: Int32 = 0
      if result < 0 {
        errno = kernelErrno(result)
        // io_uring reports a missing feature here, not at submission.
        if retriedWithoutMissingFeature(index, errno: errno, atSubmission: false) {
          resubmitted = true
          return
        }
      } else if slot.operation != .flush && UInt64(result) != slot.length {
        if resubmitRest(index, moved: result) {
          resubmitted = true
          return
        }
        errno = EIO  // short transfer
      }
      if errno == 0 {
        if slot.operation == .flush && flushMode == .unknown { flushMode = .kernel }
        if slot.usesDataSyncFlag && fuaMode == .unknown { fuaMode = .dataSyncFlag }
        if slot.syncAfterWrite {
          queueJob(index, .dataSync)  // the FUA write completes after fdatasync
          return
        }
      }
      complete(index, errno: errno, deliver)
      delivered &+= 1
    }
    kernelInFlight &-= got
    if resubmitted { submit() }
    handJobsToWorker()
    return delivered
  }

  private func reapWorker(_ deliver: (BlockCompletion) -> Void) -> Int {
    guard let worker else { return 0 }
    worker.takeResults(into: &workerResults)
    let count = workerResults.count
    workerOutstanding &-= count
    for position in 0..<count {
      let result = workerResults[position]
      complete(result.slot, errno: result.errno, deliver)
    }
    workerResults.removeAll(keepingCapacity: true)
    return count
  }

  /// Copies a bounced read back, counts, frees the slot, then delivers (so
  /// `deliver` may reuse the slot at once).
  private func complete(
    _ index: Int32, errno: Int32, _ deliver: (BlockCompletion) -> Void
  ) {
    let slot = table.slot(index).pointee
    if let bounce = slot.bounce {
      if errno == 0 && slot.operation == .read, let base = bounce.baseAddress {
        slot.iovecs.scatter(from: base)
      }
      bounces.give(bounce)
    }
    statistics.completed &+= 1
    if errno != 0 {
      statistics.failed &+= 1
    } else if slot.operation == .read {
      statistics.bytesRead &+= slot.length
    } else if slot.operation == .write {
      statistics.bytesWritten &+= slot.length &+ UInt64(slot.written)
    }
    table.release(index)
    deliver(BlockCompletion(tag: slot.tag, errno: errno))
  }

  /// Submits and delivers until nothing is in flight, sleeping on the
  /// eventfd while the kernel or the helper is busy.
  public func drain(_ deliver: (BlockCompletion) -> Void) {
    guard !closed else { return }
    var stalls = 0
    while true {
      submit()
      reap(deliver)
      if inFlight == 0 { return }
      if kernelInFlight > 0 || workerOutstanding > 0 {
        waitForEventFD()
        stalls = 0
      } else if submitStalled {
        // The kernel said EAGAIN with nothing of ours running: give the
        // kernel time, but not forever.
        stalls &+= 1
        if stalls > 10_000 {
          kernel.abandonQueued { finishEarly($0, EAGAIN) }
        } else {
          usleep(1000)
        }
      }
      // Otherwise deliveries queued new work or results: go round again.
    }
  }

  private func waitForEventFD() {
    _ = try? eventFD.poll(for: .readable, timeout: .forever)
  }
}
