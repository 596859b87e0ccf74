/// `--irq-coalescing THR:TIME`: Interrupt Coalescing (Set Features 08h) as the
/// feature spells it, THR in completion entries 0's based (0-255), TIME in
/// 100 us units (0-255).
public struct IRQCoalescingOption: Sendable, Hashable {
  public var threshold: UInt8
  public var time: UInt8

  /// "THR:TIME", each 0-255; nil for anything else.
  public init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let threshold = UInt8(parts[0]), let time = UInt8(parts[1]) else {
      return nil
    }
    self.threshold = threshold
    self.time = time
  }

  /// Set Features CDW11: THR in 7:0, TIME in 15:8.
  var cdw11: UInt32 { UInt32(time) << 8 | UInt32(threshold) }

  var text: String { "\(threshold):\(time)" }
}
