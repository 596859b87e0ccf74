import CLibAIO
import Glibc

/// Handing prepared requests to the kernel and to the helper thread.
extension FileBackend {
  /// One io_submit for everything prepared (more only after a partial
  /// submission or a refused iocb). What the kernel cannot take now
  /// (EAGAIN) stays queued for the next call.
  public func submit() {
    guard !closed else { return }
    startBacklog()
    submitQueued()
    handJobsToWorker()
  }

  private func submitQueued() {
    submitStalled = false
    while !aioQueue.isEmpty {
      let count = aioQueue.count
      for position in 0..<count { submitList[position] = table.control(aioQueue.peek(position)) }
      let rc = Int(io_submit(context, count, submitList))
      statistics.submitCalls &+= 1
      if rc > 0 {
        let taken = min(rc, count)
        for position in 0..<taken { noteSubmitted(aioQueue.peek(position)) }
        aioQueue.dropFirst(taken)
        kernelInFlight &+= taken
        continue  // the rest, if any, get their own verdict
      }
      if rc == 0 || rc == -Int(EAGAIN) {
        submitStalled = true
        return
      }
      // The first iocb was refused; the ones behind it were not looked at.
      guard let index = aioQueue.pop() else { return }
      refused(index, errno: rc >= -4095 ? Int32(-rc) : EIO)
    }
  }

  private func noteSubmitted(_ index: Int32) {
    if fuaMode == .unknown && table.slot(index).pointee.usesDataSyncFlag {
      fuaMode = .dataSyncFlag
    }
  }

  /// io_submit rejected this iocb: retry it another way when the cause is a
  /// missing kernel feature, else complete it with the error.
  private func refused(_ index: Int32, errno: Int32) {
    let slot = table.slot(index)
    switch slot.pointee.operation {
    case .flush where errno == EINVAL:
      // aio FDSYNC unsupported by this filesystem: fdatasync on the helper.
      flushMode = .helper
      queueJob(index, .dataSync)
    case .write
    where slot.pointee.usesDataSyncFlag && fuaMode == .unknown
      && (errno == EINVAL || errno == EOPNOTSUPP):
      // RWF_DSYNC unknown to this kernel: plain write, then fdatasync.
      fuaMode = .syncAfterWrite
      table.control(index).pointee.aio_rw_flags = 0
      slot.pointee.usesDataSyncFlag = false
      slot.pointee.syncAfterWrite = true
      aioQueue.push(index)
    default:
      finishEarly(index, errno)
    }
  }

  /// Gives queued jobs to the helper thread, starting it on first use.
  func handJobsToWorker() {
    guard !workerJobs.isEmpty else { return }
    if worker == nil {
      let helper = SyncWorker(
        fd: fd, notifyFD: eventFD, capacity: queueDepth, punchHole: allowPunchHole,
        zeroRange: allowZeroRange)
      let failure = helper.start()
      guard failure == 0 else {
        for job in workerJobs { finishEarly(job.slot, failure) }
        workerJobs.removeAll(keepingCapacity: true)
        return
      }
      worker = helper
    }
    workerOutstanding &+= workerJobs.count
    worker?.post(&workerJobs)
  }
}
