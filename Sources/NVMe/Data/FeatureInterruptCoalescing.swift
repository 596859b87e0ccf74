/// Interrupt Coalescing (FID 08h) decoded: CDW11 THR in 7:0 (completion
/// entries per interrupt, 0's based), TIME in 15:8 (100 us units). The spec
/// applies both per vector, to I/O completion queues only, and a controller
/// signals when either is met; either one cleared to 0h means no coalescing.
public struct InterruptCoalescing: Sendable, Hashable {
  /// THR, 0's based.
  public var threshold: UInt8
  /// TIME, in 100 microsecond units.
  public var time: UInt8

  public init(dword: UInt32) {
    threshold = UInt8(truncatingIfNeeded: dword)
    time = UInt8(truncatingIfNeeded: dword >> 8)
  }

  /// THR 0 is one entry per interrupt and TIME 0 is "no delay" (Base 2.0,
  /// the Interrupt Coalescing feature): either way each entry is signalled
  /// as it comes.
  public var isInEffect: Bool { threshold != 0 && time != 0 }

  /// Entries that raise the interrupt: THR + 1 (1-256).
  public var entries: Int { Int(threshold) &+ 1 }

  /// TIME in nanoseconds: at most 255 * 100 us = 25.5 ms.
  public var nanoseconds: UInt64 { UInt64(time) &* 100_000 }
}
