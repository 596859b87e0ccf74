/// Status names as the NVMe Base Specification 2.0 gives them (figures
/// 95-97) and the NVM Command Set Specification 1.0 (figures 19-20), for
/// messages a person reads.
extension NVMeStatus {
  /// The specification's name for this SCT and SC, or nil when unknown.
  public var name: String? {
    switch sct {
    case StatusCodeType.generic: Self.genericNames[sc]
    case StatusCodeType.commandSpecific: Self.commandSpecificNames[sc]
    case StatusCodeType.mediaAndDataIntegrity: Self.mediaNames[sc]
    case StatusCodeType.pathRelated: Self.pathNames[sc]
    default: nil
    }
  }

  /// "Invalid Namespace or Format (0x0B)" for a generic status, "Invalid
  /// Queue Identifier (sct 1, sc 0x01)" for another type, "status sct 1
  /// sc 0xF0" when the code has no known name.
  public var text: String {
    let code = "0x" + (sc < 0x10 ? "0" : "") + String(sc, radix: 16, uppercase: true)
    guard let name else { return "status sct \(sct) sc \(code)" }
    return sct == StatusCodeType.generic ? "\(name) (\(code))" : "\(name) (sct \(sct), sc \(code))"
  }

  private static let genericNames: [UInt8: String] = [
    0x00: "Successful Completion", 0x01: "Invalid Command Opcode",
    0x02: "Invalid Field in Command", 0x03: "Command ID Conflict", 0x04: "Data Transfer Error",
    0x05: "Commands Aborted due to Power Loss Notification", 0x06: "Internal Error",
    0x07: "Command Abort Requested", 0x08: "Command Aborted due to SQ Deletion",
    0x09: "Command Aborted due to Failed Fused Command",
    0x0A: "Command Aborted due to Missing Fused Command",
    0x0B: "Invalid Namespace or Format", 0x0C: "Command Sequence Error",
    0x0D: "Invalid SGL Segment Descriptor", 0x0E: "Invalid Number of SGL Descriptors",
    0x0F: "Data SGL Length Invalid", 0x10: "Metadata SGL Length Invalid",
    0x11: "SGL Descriptor Type Invalid", 0x12: "Invalid Use of Controller Memory Buffer",
    0x13: "PRP Offset Invalid", 0x14: "Atomic Write Unit Exceeded", 0x15: "Operation Denied",
    0x16: "SGL Offset Invalid", 0x18: "Host Identifier Inconsistent Format",
    0x19: "Keep Alive Timer Expired", 0x1A: "Keep Alive Timeout Invalid",
    0x1B: "Command Aborted due to Preempt and Abort", 0x1C: "Sanitize Failed",
    0x1D: "Sanitize In Progress", 0x1E: "SGL Data Block Granularity Invalid",
    0x1F: "Command Not Supported for Queue in CMB", 0x20: "Namespace is Write Protected",
    0x21: "Command Interrupted", 0x22: "Transient Transport Error",
    0x23: "Command Prohibited by Command and Feature Lockdown",
    0x24: "Admin Command Media Not Ready",
    0x80: "LBA Out of Range", 0x81: "Capacity Exceeded", 0x82: "Namespace Not Ready",
    0x83: "Reservation Conflict", 0x84: "Format In Progress",
  ]

  private static let commandSpecificNames: [UInt8: String] = [
    0x00: "Completion Queue Invalid", 0x01: "Invalid Queue Identifier",
    0x02: "Invalid Queue Size", 0x03: "Abort Command Limit Exceeded",
    0x05: "Asynchronous Event Request Limit Exceeded", 0x06: "Invalid Firmware Slot",
    0x07: "Invalid Firmware Image", 0x08: "Invalid Interrupt Vector", 0x09: "Invalid Log Page",
    0x0A: "Invalid Format", 0x0B: "Firmware Activation Requires Conventional Reset",
    0x0C: "Invalid Queue Deletion", 0x0D: "Feature Identifier Not Saveable",
    0x0E: "Feature Not Changeable", 0x0F: "Feature Not Namespace Specific",
    0x10: "Firmware Activation Requires NVM Subsystem Reset",
    0x11: "Firmware Activation Requires Controller Level Reset",
    0x12: "Firmware Activation Requires Maximum Time Violation",
    0x13: "Firmware Activation Prohibited", 0x14: "Overlapping Range",
    0x15: "Namespace Insufficient Capacity", 0x16: "Namespace Identifier Unavailable",
    0x18: "Namespace Already Attached", 0x19: "Namespace Is Private",
    0x1A: "Namespace Not Attached", 0x1B: "Thin Provisioning Not Supported",
    0x1C: "Controller List Invalid", 0x1D: "Device Self-test In Progress",
    0x1E: "Boot Partition Write Prohibited", 0x1F: "Invalid Controller Identifier",
    0x80: "Conflicting Attributes", 0x81: "Invalid Protection Information",
    0x82: "Attempted Write to Read Only Range", 0x83: "Command Size Limit Exceeded",
  ]

  private static let mediaNames: [UInt8: String] = [
    0x80: "Write Fault", 0x81: "Unrecovered Read Error", 0x82: "End-to-end Guard Check Error",
    0x83: "End-to-end Application Tag Check Error",
    0x84: "End-to-end Reference Tag Check Error", 0x85: "Compare Failure",
    0x86: "Access Denied", 0x87: "Deallocated or Unwritten Logical Block",
  ]

  private static let pathNames: [UInt8: String] = [
    0x00: "Internal Path Error", 0x01: "Asymmetric Access Persistent Loss",
    0x02: "Asymmetric Access Inaccessible", 0x03: "Asymmetric Access Transition",
    0x60: "Controller Pathing Error", 0x70: "Host Pathing Error",
    0x71: "Command Aborted By Host",
  ]
}
