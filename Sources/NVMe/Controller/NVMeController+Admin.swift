extension NVMeController {
  /// Runs one admin command. Handlers return CQE Dword 0 to complete now, or
  /// nil when the completion comes later (AER, Format's deallocation).
  func executeAdmin(_ sqe: SubmissionQueueEntry) {
    let cid = sqe.commandIdentifier
    do throws(NVMeStatus) {
      guard sqe.fusedOperation == .normal else { throw .invalidField }
      guard let opcode = AdminOpcode(rawValue: sqe.opcode) else { throw .invalidOpcode }
      let dw0: UInt32?
      switch opcode {
      case .identify: dw0 = try identify(sqe)
      case .getLogPage: dw0 = try getLogPage(sqe)
      case .setFeatures: dw0 = try setFeatures(sqe)
      case .getFeatures: dw0 = try getFeatures(sqe)
      case .createIOCompletionQueue: dw0 = try createCompletionQueue(sqe)
      case .createIOSubmissionQueue: dw0 = try createSubmissionQueue(sqe)
      case .deleteIOSubmissionQueue: dw0 = try deleteSubmissionQueue(sqe)
      case .deleteIOCompletionQueue: dw0 = try deleteCompletionQueue(sqe)
      case .abort:
        // Commands here are either already with a backend (which cannot take
        // them back) or complete at once: report "not aborted" (bit 0).
        dw0 = 1
      case .asynchronousEventRequest:
        guard session.events.requests.count < Int(controllerIdentity.aerl) + 1 else {
          throw .asyncEventRequestLimitExceeded
        }
        session.events.park(cid)
        deliverEvents()
        dw0 = nil
      case .formatNVM: dw0 = try formatNVM(sqe)
      case .doorbellBufferConfig: dw0 = try doorbellBufferConfig(sqe)
      case .deviceSelfTest: dw0 = try deviceSelfTest(sqe)
      default: throw .invalidOpcode
      }
      if let dw0 { complete(sqid: 0, cid: cid, status: .success, dw0: dw0) }
    } catch {
      complete(sqid: 0, cid: cid, status: error, namespaceID: sqe.namespaceIdentifier)
    }
  }

  /// Admin commands use PRPs only (PCIe transport) and the page size in CC.
  var adminLimits: DataPointerLimits {
    DataPointerLimits(
      pageSize: cc.pageSize, maxTransferLength: max(settings.maxTransferBytes, 16384),
      allowSGL: false)
  }

  /// Controller-to-host transfer of `bytes` through the command's PRPs.
  func sendToHost(_ bytes: [UInt8], _ sqe: SubmissionQueueEntry) throws(NVMeStatus) {
    guard let memory else { throw .dataTransferError }
    let segments = try sqe.dataSegments(
      length: bytes.count, direction: .controllerToHost, limits: adminLimits, memory: memory)
    try DataTransfer.copyToGuest(bytes, segments: segments, memory: memory)
  }

  /// Host-to-controller transfer of `length` bytes.
  func receiveFromHost(length: Int, _ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> [UInt8] {
    guard let memory else { throw .dataTransferError }
    let segments = try sqe.dataSegments(
      length: length, direction: .hostToController, limits: adminLimits, memory: memory)
    let bytes = try DataTransfer.copyFromGuest(segments: segments, length: length, memory: memory)
    guard bytes.count == length else { throw .dataTransferError }
    return bytes
  }

  /// Format NVM (NVM Command Set 1.0, 4.1): LBAF among those offered, no
  /// metadata or protection information, SES 0 (keep data) or 1 (erase user
  /// data, by deallocating the whole namespace).
  func formatNVM(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let cdw10 = sqe.cdw10
    let lbaf = Int(cdw10 & 0xF) | Int((cdw10 >> 12) & 0x3) << 4
    let protection = cdw10 >> 5 & 0x7
    let secureErase = cdw10 >> 9 & 0x7
    let targets: [Int]
    if sqe.namespaceIdentifier == 0xFFFF_FFFF {
      targets = Array(namespaces.indices)
    } else if let index = namespaceIndex(sqe.namespaceIdentifier) {
      targets = [index]
    } else {
      throw .invalidNamespaceOrFormat
    }
    guard secureErase <= 1 else { throw .invalidField }
    // No format carries metadata, so MSET has nothing to choose; PI needs metadata.
    guard protection == 0 else { throw .invalidFormat }
    // All or nothing: every target is checked before any is changed.
    for index in targets {
      guard !namespaces[index].isReadOnly else { throw .namespaceWriteProtected }
      guard namespaces[index].supportsFormat(lbaf) else { throw .invalidFormat }
    }
    selfTestSeesFormat(of: targets)
    for index in targets {
      _ = namespaces[index].reformat(to: lbaf)
      changedNamespaces.note(namespaces[index].id)
    }
    if secureErase == 1 {
      let slot = inFlight.allocate()
      inFlight[slot] = IOContext(
        submissionQueueID: 0, commandID: sqe.commandIdentifier,
        namespaceID: sqe.namespaceIdentifier, kind: .deallocate, pendingParts: targets.count)
      for index in targets {
        enqueue(
          .discard, namespaceIndex: index, offset: 0, length: namespaces[index].backend.size,
          slot: slot)
      }
      raise(.namespaceAttributeChanged)
      return nil
    }
    raise(.namespaceAttributeChanged)
    return 0
  }
}
