// Named status values used by the controller model.
//
// DNR defaults: set where retrying the identical command cannot help (bad
// fields, bad pointers, bad queue ids); clear where the cause is transient
// (power loss, aborts, internal errors, not ready, transport, media write/read
// faults). Callers can flip it with `doNotRetry(_:)`.

extension NVMeStatus {
  private static func generic(_ sc: UInt8, dnr: Bool) -> NVMeStatus {
    NVMeStatus(sct: StatusCodeType.generic, sc: sc, dnr: dnr)
  }
  private static func specific(_ sc: UInt8, dnr: Bool = true) -> NVMeStatus {
    NVMeStatus(sct: StatusCodeType.commandSpecific, sc: sc, dnr: dnr)
  }
  private static func media(_ sc: UInt8, dnr: Bool) -> NVMeStatus {
    NVMeStatus(sct: StatusCodeType.mediaAndDataIntegrity, sc: sc, dnr: dnr)
  }

  // MARK: Generic command status (SCT 0h, figure 95)

  public static let success = generic(0x00, dnr: false)
  public static let invalidOpcode = generic(0x01, dnr: true)
  public static let invalidField = generic(0x02, dnr: true)
  public static let commandIDConflict = generic(0x03, dnr: true)
  public static let dataTransferError = generic(0x04, dnr: false)
  public static let abortedPowerLoss = generic(0x05, dnr: false)
  public static let internalError = generic(0x06, dnr: false)
  public static let abortRequested = generic(0x07, dnr: false)
  public static let abortedSQDeletion = generic(0x08, dnr: false)
  public static let abortedFailedFused = generic(0x09, dnr: false)
  public static let abortedMissingFused = generic(0x0A, dnr: true)
  public static let invalidNamespaceOrFormat = generic(0x0B, dnr: true)
  public static let commandSequenceError = generic(0x0C, dnr: true)
  public static let invalidSGLSegmentDescriptor = generic(0x0D, dnr: true)
  public static let invalidNumberOfSGLDescriptors = generic(0x0E, dnr: true)
  public static let dataSGLLengthInvalid = generic(0x0F, dnr: true)
  public static let metadataSGLLengthInvalid = generic(0x10, dnr: true)
  public static let sglDescriptorTypeInvalid = generic(0x11, dnr: true)
  public static let invalidUseOfControllerMemoryBuffer = generic(0x12, dnr: true)
  public static let prpOffsetInvalid = generic(0x13, dnr: true)
  public static let atomicWriteUnitExceeded = generic(0x14, dnr: true)
  public static let operationDenied = generic(0x15, dnr: true)
  public static let sglOffsetInvalid = generic(0x16, dnr: true)
  public static let hostIdentifierInconsistentFormat = generic(0x18, dnr: true)
  public static let keepAliveTimerExpired = generic(0x19, dnr: false)
  public static let keepAliveTimeoutInvalid = generic(0x1A, dnr: true)
  public static let sglDataBlockGranularityInvalid = generic(0x1E, dnr: true)
  public static let namespaceWriteProtected = generic(0x20, dnr: true)
  public static let commandInterrupted = generic(0x21, dnr: false)
  public static let transientTransportError = generic(0x22, dnr: false)
  // NVM command set generic values (NVM Command Set 1.0, figure 18).
  public static let lbaOutOfRange = generic(0x80, dnr: true)
  public static let capacityExceeded = generic(0x81, dnr: true)
  public static let namespaceNotReady = generic(0x82, dnr: false)
  public static let reservationConflict = generic(0x83, dnr: true)
  public static let formatInProgress = generic(0x84, dnr: false)

  // MARK: Command specific status (SCT 1h, figure 96)

  public static let completionQueueInvalid = specific(0x00)
  public static let invalidQueueIdentifier = specific(0x01)
  public static let invalidQueueSize = specific(0x02)
  public static let abortCommandLimitExceeded = specific(0x03)
  public static let asyncEventRequestLimitExceeded = specific(0x05)
  public static let invalidFirmwareSlot = specific(0x06)
  public static let invalidFirmwareImage = specific(0x07)
  public static let invalidInterruptVector = specific(0x08)
  public static let invalidLogPage = specific(0x09)
  public static let invalidFormat = specific(0x0A)
  public static let invalidQueueDeletion = specific(0x0C)
  public static let featureIdentifierNotSaveable = specific(0x0D)
  public static let featureNotChangeable = specific(0x0E)
  public static let featureNotNamespaceSpecific = specific(0x0F)
  public static let namespaceInsufficientCapacity = specific(0x15)
  public static let namespaceIdentifierUnavailable = specific(0x16)
  public static let namespaceAlreadyAttached = specific(0x18)
  public static let namespaceIsPrivate = specific(0x19)
  public static let namespaceNotAttached = specific(0x1A)
  public static let controllerListInvalid = specific(0x1C)
  public static let deviceSelfTestInProgress = specific(0x1D, dnr: false)
  public static let invalidControllerIdentifier = specific(0x1F)
  // NVM command set specific (NVM Command Set 1.0, figure 19).
  public static let conflictingAttributes = specific(0x80)
  public static let invalidProtectionInformation = specific(0x81)
  public static let attemptedWriteToReadOnlyRange = specific(0x82)
  public static let commandSizeLimitExceeded = specific(0x83)

  // MARK: Media and data integrity errors (SCT 2h, figure 97 / NVM figure 20)

  public static let writeFault = media(0x80, dnr: false)
  public static let unrecoveredReadError = media(0x81, dnr: false)
  public static let endToEndGuardCheckError = media(0x82, dnr: true)
  public static let endToEndApplicationTagCheckError = media(0x83, dnr: true)
  public static let endToEndReferenceTagCheckError = media(0x84, dnr: true)
  public static let compareFailure = media(0x85, dnr: true)
  public static let accessDenied = media(0x86, dnr: true)
  public static let deallocatedOrUnwrittenLogicalBlock = media(0x87, dnr: true)
}
