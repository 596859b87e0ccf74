/// Direction of a command's data transfer, from opcode bits 1:0 (spec
/// figure 87 note: 01b host to controller, 10b controller to host).
public enum TransferDirection: Sendable, Hashable {
  case none
  /// Write-type: the controller reads guest memory.
  case hostToController
  /// Read-type: the controller writes guest memory.
  case controllerToHost
  /// 11b: both ways (unused by the commands modelled here).
  case bidirectional

  public init(opcode: UInt8) {
    switch opcode & 0x3 {
    case 0: self = .none
    case 1: self = .hostToController
    case 2: self = .controllerToHost
    default: self = .bidirectional
    }
  }
}

/// Admin command set opcodes (NVMe Base 2.0, figure 139).
public enum AdminOpcode: UInt8, Sendable, Hashable, CaseIterable {
  case deleteIOSubmissionQueue = 0x00
  case createIOSubmissionQueue = 0x01
  case getLogPage = 0x02
  case deleteIOCompletionQueue = 0x04
  case createIOCompletionQueue = 0x05
  case identify = 0x06
  case abort = 0x08
  case setFeatures = 0x09
  case getFeatures = 0x0A
  case asynchronousEventRequest = 0x0C
  case namespaceManagement = 0x0D
  case firmwareCommit = 0x10
  case firmwareImageDownload = 0x11
  case deviceSelfTest = 0x14
  case namespaceAttachment = 0x15
  case keepAlive = 0x18
  case directiveSend = 0x19
  case directiveReceive = 0x1A
  case doorbellBufferConfig = 0x7C
  case formatNVM = 0x80
  case securitySend = 0x81
  case securityReceive = 0x82
  case sanitize = 0x84
  case getLBAStatus = 0x86

  public var transferDirection: TransferDirection { TransferDirection(opcode: rawValue) }
}

/// NVM command set I/O opcodes (NVM Command Set 1.0, figure 16).
public enum NVMOpcode: UInt8, Sendable, Hashable, CaseIterable {
  case flush = 0x00
  case write = 0x01
  case read = 0x02
  case writeUncorrectable = 0x04
  case compare = 0x05
  case writeZeroes = 0x08
  case datasetManagement = 0x09
  case verify = 0x0C
  case reservationRegister = 0x0D
  case reservationReport = 0x0E
  case reservationAcquire = 0x11
  case reservationRelease = 0x15
  case copy = 0x19

  public var transferDirection: TransferDirection { TransferDirection(opcode: rawValue) }
}
