/// Commands Supported and Effects log (LID 05h), 4096 bytes: ACS0..ACS255 (admin
/// opcodes) at 0, IOCS0..IOCS255 (I/O opcodes for the selected CSI) at 1024.
/// Linux reads it to learn which commands change logical block content, so it
/// can rescan after e.g. Format NVM.
public struct CommandEffectsLog: Sendable, Hashable {
  public static let size = 4096

  /// Effects bits of one Commands Supported and Effects data structure.
  public enum Effect {
    public static let supported: UInt32 = 1 << 0  // CSUPP
    public static let logicalBlockContentChange: UInt32 = 1 << 1  // LBCC
    public static let namespaceCapabilityChange: UInt32 = 1 << 2  // NCC
    public static let namespaceInventoryChange: UInt32 = 1 << 3  // NIC
    public static let controllerCapabilityChange: UInt32 = 1 << 4  // CCC
    /// CSE (bits 18:16) = 001b: no other command for the same namespace may run.
    public static let exclusiveToNamespace: UInt32 = 0b001 << 16
    /// CSE = 010b: no other command for any namespace may run.
    public static let exclusiveToController: UInt32 = 0b010 << 16
  }

  public var admin: [UInt8: UInt32]
  public var io: [UInt8: UInt32]

  public init(admin: [UInt8: UInt32] = [:], io: [UInt8: UInt32] = [:]) {
    self.admin = admin
    self.io = io
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    for (opcode, effects) in admin {
      page.put(effects, at: Int(opcode) * 4)
    }
    for (opcode, effects) in io {
      page.put(effects, at: 1024 + Int(opcode) * 4)
    }
    return page.bytes
  }
}
