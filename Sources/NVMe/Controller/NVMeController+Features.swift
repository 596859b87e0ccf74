extension NVMeController {
  func getFeatures(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let (fidByte, select) = FeatureSelect.decode(cdw10: sqe.cdw10)
    guard let select, let fid = FeatureID(rawValue: fidByte) else { throw .invalidField }
    if fid == .errorRecovery, sqe.namespaceIdentifier != 0,
      sqe.namespaceIdentifier != 0xFFFF_FFFF, namespace(sqe.namespaceIdentifier) == nil
    {
      throw .invalidNamespaceOrFormat
    }
    guard let reply = session.features.get(fid, select: select, cdw11: sqe.cdw11, now: clock())
    else {
      throw .invalidField
    }
    if let data = reply.data, select != .supportedCapabilities { try sendToHost(data, sqe) }
    return reply.dword0
  }

  func setFeatures(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let fidByte = UInt8(truncatingIfNeeded: sqe.cdw10)
    let save = sqe.cdw10 & (1 << 31) != 0
    guard let fid = FeatureID(rawValue: fidByte), session.features.isSupported(fid) else {
      throw .invalidField
    }
    guard !save else { throw .featureIdentifierNotSaveable }
    // A namespace in the NSID only fits namespace-specific features (Error
    // Recovery here); controller-wide ones take 0 or FFFFFFFFh.
    let nsid = sqe.namespaceIdentifier
    if nsid != 0, nsid != 0xFFFF_FFFF {
      if fid == .errorRecovery {
        guard namespace(nsid) != nil else { throw .invalidNamespaceOrFormat }
      } else {
        guard nsid <= namespaceCount else { throw .invalidNamespaceOrFormat }
        throw .featureNotNamespaceSpecific
      }
    }
    if fid == .numberOfQueues && session.ioQueuesCreated {
      // Only before any I/O queue was created (Base 2.0, 5.27.1.5).
      throw .commandSequenceError
    }
    var data: [UInt8] = []
    switch fid {
    case .timestamp: data = try receiveFromHost(length: TimestampFeature.size, sqe)
    case .hostBehaviorSupport: data = try receiveFromHost(length: 512, sqe)
    default: break
    }
    let hadWarning = criticalWarning & SmartHealthLog.CriticalWarning.temperature != 0
    guard let dw0 = session.features.set(fid, cdw11: sqe.cdw11, data: data, now: clock()) else {
      throw .invalidField
    }
    if fid == .interruptCoalescing || fid == .interruptVectorConfiguration {
      interruptCoalescingChanged()
    }
    if fid == .volatileWriteCache && sqe.cdw11 & 1 == 0 {
      // Turning the cache off makes what it held durable.
      flushAllBackends()
    }
    let hasWarning = criticalWarning & SmartHealthLog.CriticalWarning.temperature != 0
    if hasWarning && !hadWarning { raise(.temperatureThreshold) }
    if fid == .asynchronousEventConfiguration && hasWarning { raise(.temperatureThreshold) }
    return dw0
  }
}
