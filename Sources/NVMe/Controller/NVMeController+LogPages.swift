extension NVMeController {
  /// Log pages this controller returns.
  static let supportedLogPages: [LogPageID] = [
    .supportedLogPages, .errorInformation, .smartHealth, .firmwareSlot, .changedNamespaceList,
    .commandsSupportedAndEffects, .deviceSelfTest,
  ]

  func getLogPage(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let request = LogPageRequest(
      cdw10: sqe.cdw10, cdw11: sqe.cdw11, cdw12: sqe.cdw12, cdw13: sqe.cdw13, cdw14: sqe.cdw14)
    guard let id = request.logPage, Self.supportedLogPages.contains(id) else {
      throw .invalidLogPage
    }
    guard request.requestedLength <= UInt64(adminLimits.maxTransferLength) else {
      throw .invalidField
    }
    let nsid = sqe.namespaceIdentifier
    let page: [UInt8]
    switch id {
    case .supportedLogPages:
      page = SupportedLogPages.encode(Self.supportedLogPages.map(\.rawValue))
    case .errorInformation:
      page = errorLog.encode()
    case .smartHealth:
      // SMART is kept per controller (LPA bit 0 clear): only the
      // controller-wide NSIDs are valid.
      guard nsid == 0 || nsid == 0xFFFF_FFFF else { throw .invalidField }
      page = smartHealth().encode()
    case .firmwareSlot:
      page = FirmwareSlotLog(firmwareRevision: settings.firmwareRevision).encode()
    case .changedNamespaceList:
      page = changedNamespaces.encode()
      if !request.retainAsyncEvent { changedNamespaces.clear() }
    case .commandsSupportedAndEffects:
      page = Self.commandEffects.encode()
    case .deviceSelfTest:
      // No log specific parameter or identifier is defined for it.
      guard request.lsp == 0, request.logSpecificIdentifier == 0 else { throw .invalidField }
      page = selfTestLog.encode()
    default:
      throw .invalidLogPage
    }
    guard let slice = request.slice(of: page) else { throw .invalidField }
    try sendToHost(slice, sqe)
    if !request.retainAsyncEvent {
      session.events.acknowledge(logPage: id.rawValue)
      deliverEvents()
    }
    return 0
  }

  /// SMART / Health with live counters.
  func smartHealth() -> SmartHealthLog {
    var log = health
    let elapsedHours = (clock() &- startTime) / 3_600_000
    log.powerOnHours = elapsedHours
    log.controllerBusyTime = busyTimeMilliseconds / 60_000
    log.powerCycles = 1
    log.criticalWarning = criticalWarning
    log.compositeTemperature = Self.compositeTemperature
    log.errorLogEntries = errorLog.lifetimeCount
    log.dataUnitsRead = SmartHealthLog.dataUnits(forBytes: bytesRead)
    log.dataUnitsWritten = SmartHealthLog.dataUnits(forBytes: bytesWritten)
    return log
  }

  /// The model's temperature sensor: a constant, comfortably inside the
  /// default thresholds (310 K = 37 C). Hosts lower the threshold to test
  /// the warning path.
  static let compositeTemperature: UInt16 = 310

  var criticalWarning: UInt8 {
    var bits: UInt8 = 0
    // The condition holds at or beyond a threshold (Base 2.0, 5.27.1.4).
    let thresholds = session.features.current.temperature
    let kelvin = Self.compositeTemperature
    if kelvin >= thresholds.over[0] || kelvin <= thresholds.under[0] {
      bits |= SmartHealthLog.CriticalWarning.temperature
    }
    if namespaces.contains(where: { $0.isReadOnly }) && namespaces.allSatisfy({ $0.isReadOnly }) {
      bits |= SmartHealthLog.CriticalWarning.readOnly
    }
    return bits
  }

  static let commandEffects: CommandEffectsLog = {
    typealias E = CommandEffectsLog.Effect
    var admin: [UInt8: UInt32] = [:]
    for opcode: AdminOpcode in [
      .deleteIOSubmissionQueue, .createIOSubmissionQueue, .getLogPage, .deleteIOCompletionQueue,
      .createIOCompletionQueue, .identify, .abort, .setFeatures, .getFeatures,
      .asynchronousEventRequest, .doorbellBufferConfig, .deviceSelfTest,
    ] {
      admin[opcode.rawValue] = E.supported
    }
    admin[AdminOpcode.formatNVM.rawValue] =
      E.supported | E.logicalBlockContentChange | E.namespaceCapabilityChange
      | E.namespaceInventoryChange | E.exclusiveToNamespace
    var io: [UInt8: UInt32] = [:]
    for opcode: NVMOpcode in [.flush, .read, .compare, .verify] {
      io[opcode.rawValue] = E.supported
    }
    for opcode: NVMOpcode in [.write, .writeZeroes, .datasetManagement, .copy] {
      io[opcode.rawValue] = E.supported | E.logicalBlockContentChange
    }
    return CommandEffectsLog(admin: admin, io: io)
  }()
}
