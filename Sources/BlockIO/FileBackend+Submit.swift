import Glibc

/// Handing prepared requests to the kernel and to the helper thread.
extension FileBackend {
  /// One io_submit (or io_uring_enter) for everything prepared. What the
  /// kernel cannot take now (EAGAIN) stays queued for the next call.
  public func submit() {
    guard !closed else { return }
    startBacklog()
    submitQueued()
    handJobsToWorker()
  }

  private func submitQueued() {
    let outcome = kernel.submit { index, errno in refused(index, errno: errno) }
    kernelInFlight &+= outcome.taken
    statistics.submitCalls &+= UInt64(outcome.calls)
    submitStalled = outcome.stalled
  }

  /// Hands slot `index`'s kernel request to the queue (kept in the slot for a
  /// retry without a missing feature).
  func prepareKernel(_ index: Int32, _ request: KernelRequest) {
    table.slot(index).pointee.kernelRequest = request
    kernel.prepare(index, request)
  }

  /// The kernel rejected this request at submission (libaio) or completed it
  /// with this error (io_uring): retry it another way when the cause is a
  /// missing kernel feature. False when it is a real error. At completion
  /// only EOPNOTSUPP means an unknown RWF flag: EINVAL there is O_DIRECT's
  /// answer to a bad buffer, and must not switch FUA off the flag for good.
  func retriedWithoutMissingFeature(_ index: Int32, errno: Int32, atSubmission: Bool) -> Bool {
    let slot = table.slot(index)
    switch slot.pointee.operation {
    case .flush where errno == EINVAL && flushMode != .kernel:
      // aio FDSYNC unsupported by this filesystem: fdatasync on the helper.
      flushMode = .helper
      queueJob(index, .dataSync)
      return true
    case .write
    where slot.pointee.usesDataSyncFlag && fuaMode == .unknown
      && (errno == EOPNOTSUPP || (errno == EINVAL && atSubmission)):
      // RWF_DSYNC unknown to this kernel: plain write, then fdatasync.
      fuaMode = .syncAfterWrite
      slot.pointee.usesDataSyncFlag = false
      slot.pointee.syncAfterWrite = true
      var request = slot.pointee.kernelRequest
      request.rwFlags = 0
      prepareKernel(index, request)
      return true
    default:
      return false
    }
  }

  private func refused(_ index: Int32, errno: Int32) {
    if !retriedWithoutMissingFeature(index, errno: errno, atSubmission: true) {
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
