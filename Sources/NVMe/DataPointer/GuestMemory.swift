/// Guest physical memory as the controller sees it (the server's DMA space).
///
/// Everything behind these calls belongs to the guest and may change at any
/// moment; implementations must bounds-check every access against the mapped
/// windows and never let one access straddle two windows.
public protocol GuestMemory: AnyObject {
  /// A host view of `[address, address + length)`, or nil unless that range is
  /// wholly inside one mapped window (and writable when `write` is true).
  func translate(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer?
  /// Copies `into.count` guest bytes starting at `address`; throws when any
  /// byte is unmapped.
  func read(_ address: UInt64, into: UnsafeMutableRawBufferPointer) throws
  /// Copies `from` into guest memory at `address`; throws when any byte is
  /// unmapped or read-only.
  func write(_ address: UInt64, from: UnsafeRawBufferPointer) throws
}
