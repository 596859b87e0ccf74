/// Copy's Source Range Entries descriptor formats (Copy CDW12 bits 11:8,
/// NVM Command Set 1.0). Only format 0 is offered; format 1 (64-bit guard
/// protection information) joins it when protection information comes.
public enum CopyDescriptorFormat: UInt8, Sendable, CaseIterable {
  /// 32 bytes: SLBA at 8, NLB (0's based) at 16, 16-bit guard PI fields.
  case format0 = 0
  /// 40 bytes, for 64-bit guard PI. Not offered: Invalid Field in Command.
  case format1 = 1

  public static let supported: [CopyDescriptorFormat] = [.format0]

  /// OCFS in Identify Controller: one bit per supported format.
  public static var supportedMask: UInt16 {
    supported.reduce(0) { $0 | 1 << UInt16($1.rawValue) }
  }

  public var isSupported: Bool { Self.supported.contains(self) }

  public var entrySize: Int {
    switch self {
    case .format0: 32
    case .format1: 40
    }
  }
}

/// One source range of a Copy command, as the host wrote it.
public struct CopySourceRange: Sendable, Hashable {
  public var startingLBA: UInt64
  /// Blocks (the descriptor's NLB plus one).
  public var blocks: UInt32

  public init(startingLBA: UInt64, blocks: UInt32) {
    self.startingLBA = startingLBA
    self.blocks = blocks
  }

  /// Entry `index` of `list`; nil when the list is too short for it. Both
  /// formats put SLBA at 8 and NLB at 16 (their PI fields differ).
  public static func parse(
    _ list: [UInt8], index: Int, format: CopyDescriptorFormat
  ) -> CopySourceRange? {
    let base = index * format.entrySize
    guard let slba = DataPage.read(UInt64.self, from: list, at: base + 8),
      let nlb = DataPage.read(UInt16.self, from: list, at: base + 16)
    else { return nil }
    return CopySourceRange(startingLBA: slba, blocks: UInt32(nlb) + 1)
  }
}
