import NVMe
import VFIOUserClient

/// How a command's data buffer is described to the controller.
public enum DataPointerKind: String, Sendable, CaseIterable {
  /// PRP1/PRP2, with a PRP list page when the buffer spans more than two pages.
  case prp
  /// One SGL Data Block descriptor in DPTR.
  case sgl
}

/// A command to submit: the SQE's command dwords plus, optionally, one
/// contiguous data buffer that the queue describes with PRPs or an SGL.
/// A value: building one allocates nothing.
public struct NVMeCommand {
  public var opcode: UInt8
  public var namespaceID: UInt32
  public var cdw10: UInt32
  public var cdw11: UInt32
  public var cdw12: UInt32
  public var cdw13: UInt32
  public var cdw14: UInt32
  public var cdw15: UInt32
  public var data: GuestBuffer?
  public var dataPointer: DataPointerKind
  /// DPTR as given, used only when `data` is nil (queue creation passes a
  /// ring's base in PRP1).
  public var prp1: UInt64
  public var prp2: UInt64

  public init(
    opcode: UInt8, namespaceID: UInt32 = 0, cdw10: UInt32 = 0, cdw11: UInt32 = 0,
    cdw12: UInt32 = 0, cdw13: UInt32 = 0, cdw14: UInt32 = 0, cdw15: UInt32 = 0,
    data: GuestBuffer? = nil, dataPointer: DataPointerKind = .prp, prp1: UInt64 = 0,
    prp2: UInt64 = 0
  ) {
    self.opcode = opcode
    self.namespaceID = namespaceID
    self.cdw10 = cdw10
    self.cdw11 = cdw11
    self.cdw12 = cdw12
    self.cdw13 = cdw13
    self.cdw14 = cdw14
    self.cdw15 = cdw15
    self.data = data
    self.dataPointer = dataPointer
    self.prp1 = prp1
    self.prp2 = prp2
  }

  /// Read or Write of `blocks` logical blocks (1...65536) at `lba` into or
  /// from `buffer`.
  public static func read(
    namespace: UInt32 = 1, lba: UInt64, blocks: Int, buffer: GuestBuffer,
    using pointer: DataPointerKind = .prp
  ) -> NVMeCommand {
    transfer(.read, namespace: namespace, lba: lba, blocks: blocks, buffer: buffer, pointer)
  }

  public static func write(
    namespace: UInt32 = 1, lba: UInt64, blocks: Int, buffer: GuestBuffer,
    using pointer: DataPointerKind = .prp, forceUnitAccess: Bool = false
  ) -> NVMeCommand {
    var command = transfer(
      .write, namespace: namespace, lba: lba, blocks: blocks, buffer: buffer, pointer)
    if forceUnitAccess { command.cdw12 |= 1 << 30 }
    return command
  }

  public static func flush(namespace: UInt32 = 1) -> NVMeCommand {
    NVMeCommand(opcode: NVMOpcode.flush.rawValue, namespaceID: namespace)
  }

  private static func transfer(
    _ opcode: NVMOpcode, namespace: UInt32, lba: UInt64, blocks: Int, buffer: GuestBuffer,
    _ pointer: DataPointerKind
  ) -> NVMeCommand {
    // NLB is 0-based in 16 bits; out-of-range counts are the caller's bug
    // and are clamped so the controller, not a trap, reports them.
    let nlb = UInt32(truncatingIfNeeded: max(1, min(blocks, 65536)) - 1)
    return NVMeCommand(
      opcode: opcode.rawValue, namespaceID: namespace,
      cdw10: UInt32(truncatingIfNeeded: lba), cdw11: UInt32(truncatingIfNeeded: lba >> 32),
      cdw12: nlb, data: buffer, dataPointer: pointer)
  }
}

/// A completed (or host-aborted) command as the queue hands it back.
public struct NVMeCompletion: Sendable, Hashable {
  /// Status the host uses for commands lost to a controller reset: Command
  /// Aborted By Host (path related, 71h), as Linux reports them.
  public static let abortedByHost = NVMeStatus(sct: 3, sc: 0x71)

  public var commandID: UInt16
  /// What the submitter passed with the command.
  public var tag: UInt64
  public var status: NVMeStatus
  public var dw0: UInt32
  public var dw1: UInt32
  /// True when no CQE came: the host gave the command up (controller reset).
  public var abortedByHost: Bool

  public init(
    commandID: UInt16, tag: UInt64, status: NVMeStatus, dw0: UInt32 = 0, dw1: UInt32 = 0,
    abortedByHost: Bool = false
  ) {
    self.commandID = commandID
    self.tag = tag
    self.status = status
    self.dw0 = dw0
    self.dw1 = dw1
    self.abortedByHost = abortedByHost
  }

  public var isSuccess: Bool { status.isSuccess }
}
