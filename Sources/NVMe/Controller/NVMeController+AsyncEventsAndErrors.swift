/// Asynchronous events (masked by feature 0Bh) and the Error Information log.
extension NVMeController {
  /// `phase`: the Phase Tag the command's completion is (or will be) posted
  /// with, which the entry's Status Field carries in bit 0.
  func recordError(
    sqid: UInt16, cid: UInt16, status: NVMeStatus, phase: Bool, namespaceID: UInt32, lba: UInt64
  ) {
    errorLog.record(
      ErrorInformationEntry(
        submissionQueueID: sqid, commandID: cid, status: status.encoded, phaseTag: phase,
        lba: lba, namespaceID: namespaceID))
    health.errorLogEntries = errorLog.lifetimeCount
  }

  /// Queues an asynchronous event if the host enabled its kind, and delivers
  /// it at once if a request is parked.
  func raise(_ event: AsyncEvent) {
    let configuration = session.features.current.asyncEventConfiguration
    let enabled: Bool
    switch (event.type, event.info) {
    case (AsyncEvent.EventType.error, _): enabled = true  // not maskable
    // SMART events follow the critical-warning bits they report: reliability
    // (bit 2), temperature (bit 1), spare (bit 0).
    case (AsyncEvent.EventType.smartHealth, 0): enabled = configuration & 0x4 != 0
    case (AsyncEvent.EventType.smartHealth, 1): enabled = configuration & 0x2 != 0
    case (AsyncEvent.EventType.smartHealth, 2): enabled = configuration & 0x1 != 0
    case (AsyncEvent.EventType.notice, 0):
      enabled = configuration & ControllerIdentity.OAES.namespaceAttributeNotices != 0
    default: enabled = false
    }
    guard enabled else { return }
    session.events.post(event)
    deliverEvents()
  }

  func deliverEvents() {
    while let (cid, event) = session.events.nextDelivery() {
      complete(sqid: 0, cid: cid, status: .success, dw0: event.dword0)
    }
  }
}
