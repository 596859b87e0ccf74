import BackendContract
import Glibc

/// Device Self-test (admin 14h) and its log (LID 06h), Base 2.0 5.9 and 8.11.
///
/// The command starts the operation and completes at once; the reactor then
/// reads the namespaces in scope in the background, one chunk per turn at
/// most (see `SelfTestRun`), and the log shows the progress and, at the end,
/// the result. One operation at a time (DSTO bit 0).
extension NVMeController {
  /// The backend tag of a self-test read; slots are small, flush uses max.
  static let selfTestTag = UInt64.max - 1

  func deviceSelfTest(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let nsid = sqe.namespaceIdentifier
    guard let code = DeviceSelfTestLog.Code(rawValue: UInt8(truncatingIfNeeded: sqe.cdw10) & 0xF)
    else { throw .invalidField }
    if code == .abort {
      // Aborting when nothing runs is not an error (8.11.4).
      endSelfTest(.abortedByCommand)
      return 0
    }
    // NSID 0: the controller alone; FFFFFFFFh: it and every namespace.
    let targets: [Int]
    switch nsid {
    case 0: targets = []
    case 0xFFFF_FFFF: targets = Array(namespaces.indices)
    default:
      guard let index = namespaceIndex(nsid) else { throw .invalidNamespaceOrFormat }
      targets = [index]
    }
    guard selfTest == nil else { throw .deviceSelfTestInProgress }
    let spans = targets.map { index in
      let ns = namespaces[index]
      let whole = ns.blockCount << UInt64(ns.blockShift)
      return SelfTestRun.Span(
        namespaceIndex: index, namespaceID: ns.id,
        length: code == .short ? min(whole, SelfTestRun.shortTestBytes) : whole)
    }
    selfTest = SelfTestRun(code: code, spans: spans)
    selfTestLog.current = code
    selfTestLog.percentComplete = 0
    _ = advanceSelfTest()
    return 0
  }

  /// Issues the running test's next read, or records its end. Called once a
  /// turn; returns 1 when it did something (the reactor keeps spinning).
  func advanceSelfTest() -> Int {
    guard var run = selfTest, !run.awaitingChunk, !selfTestReadInFlight else { return 0 }
    guard let chunk = run.nextChunk else {
      endSelfTest(.completedWithoutError)
      return 1
    }
    let buffer = selfTestBuffer
    selfTestVector.pointee = iovec(iov_base: buffer.baseAddress, iov_len: Int(chunk.length))
    let request = BlockRequest(
      operation: .read, offset: chunk.offset, length: chunk.length,
      iovecs: UnsafeMutableBufferPointer(start: selfTestVector, count: 1), tag: Self.selfTestTag)
    namespaces[chunk.span.namespaceIndex].backend.enqueue(request)
    markBackendForSubmit(chunk.span.namespaceIndex)
    run.awaitingChunk = true
    selfTestReadInFlight = true
    selfTest = run
    return 1
  }

  /// A self-test read finished. It may belong to a run that has since been
  /// aborted (the buffer is the controller's, so it is still valid).
  func selfTestReadCompleted(_ completion: BlockCompletion) {
    selfTestReadInFlight = false
    guard var run = selfTest, run.awaitingChunk, let chunk = run.nextChunk else { return }
    run.awaitingChunk = false
    guard completion.succeeded else {
      let ns = namespaces[chunk.span.namespaceIndex]
      let failure = DeviceSelfTestLog.Failure(
        segment: DeviceSelfTestLog.mediaCheckSegment, namespaceID: chunk.span.namespaceID,
        lba: chunk.offset >> UInt64(ns.blockShift),
        status: completion.errno == EIO ? .unrecoveredReadError : .internalError)
      selfTest = run
      endSelfTest(.failedSegment, failure: failure)
      return
    }
    run.chunkDone()
    bytesRead &+= chunk.length
    selfTest = run
    selfTestLog.percentComplete = run.percentComplete
  }

  /// Ends the running test, if any, with `outcome` in the log.
  func endSelfTest(_ outcome: DeviceSelfTestLog.Outcome, failure: DeviceSelfTestLog.Failure? = nil)
  {
    guard let run = selfTest else { return }
    selfTest = nil
    selfTestLog.current = nil
    selfTestLog.percentComplete = 0
    selfTestLog.record(
      DeviceSelfTestLog.Result(
        code: run.code, outcome: outcome, powerOnHours: smartHealth().powerOnHours,
        failure: failure))
  }

  /// A Controller Level Reset aborts a short test; an extended one goes on
  /// (8.11.1, 8.11.2).
  func selfTestSeesReset() {
    if selfTest?.code == .short { endSelfTest(.abortedByControllerReset) }
  }

  /// Format NVM of a namespace the test reads aborts it.
  func selfTestSeesFormat(of targets: [Int]) {
    guard let run = selfTest,
      run.spans.contains(where: { targets.contains($0.namespaceIndex) })
    else { return }
    endSelfTest(.abortedByFormat)
  }

  /// Extended test time (EDSTT, minutes), at a conservative 100 MiB/s.
  var extendedSelfTestMinutes: UInt16 {
    let bytes = namespaces.reduce(UInt64(0)) { $0 &+ $1.backend.size }
    let perMinute: UInt64 = (100 << 20) * 60
    return UInt16(clamping: max(1, (bytes / perMinute) &+ 1))
  }
}
