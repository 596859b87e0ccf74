/// The 4 KiB PCI Express configuration space of one function, with per-byte
/// write semantics.
///
/// Every byte has two masks: `writable` bits take the written value,
/// `writeOneToClear` bits are cleared where a 1 is written; all other bits are
/// read-only. Because the masks are per byte, a guest access of any alignment
/// and length behaves exactly like the equivalent sequence of byte accesses.
///
/// Offsets and lengths coming from the guest are hostile: `read`/`write` refuse
/// anything outside the space instead of trapping. The typed helpers are for
/// the function's own setup; out-of-range calls read 0 and write nothing.
public struct ConfigSpace: Sendable, Equatable {
  /// PCIe extended configuration space size. Bytes 0x100 and up stay zero,
  /// which a guest reads as "no extended capabilities".
  public static let size = 4096

  private var bytes: [UInt8]
  private var writable: [UInt8]
  private var writeOneToClear: [UInt8]

  public init() {
    bytes = Array(repeating: 0, count: Self.size)
    writable = Array(repeating: 0, count: Self.size)
    writeOneToClear = Array(repeating: 0, count: Self.size)
  }

  /// The byte range for an access, or nil when any part of it is outside the
  /// space. No arithmetic here can overflow: `count` is bounded first.
  static func range(offset: Int, count: Int) -> Range<Int>? {
    guard (1...size).contains(count), offset >= 0, offset <= size - count else { return nil }
    return offset..<(offset + count)
  }

  // MARK: Guest accesses

  /// Bytes at `offset`, or nil when the access is not fully inside the space
  /// or `count` is not in 1...4096.
  public func read(offset: Int, count: Int) -> [UInt8]? {
    guard let range = Self.range(offset: offset, count: count) else { return nil }
    return Array(bytes[range])
  }

  /// Applies a guest write through the masks. Returns false (and changes
  /// nothing) when the access is not fully inside the space.
  public mutating func write(offset: Int, bytes newBytes: [UInt8]) -> Bool {
    guard let range = Self.range(offset: offset, count: newBytes.count) else { return false }
    for (index, value) in zip(range, newBytes) {
      let kept = bytes[index] & ~writable[index]
      let written = value & writable[index]
      let cleared = value & writeOneToClear[index]
      bytes[index] = (kept | written) & ~cleared
    }
    return true
  }

  // MARK: Typed helpers for setup (bypass the masks)

  /// Little-endian value at `offset`; 0 when out of range.
  public func value<T: FixedWidthInteger & UnsignedInteger>(at offset: Int, as _: T.Type) -> T {
    Self.load(from: bytes, at: offset)
  }

  /// Stores `value` little-endian at `offset`, ignoring the masks.
  public mutating func set<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
    Self.store(value, into: &bytes, at: offset)
  }

  /// Declares which bits of the field at `offset` the guest may write or
  /// clear. A bit must not be in both masks; `writable` wins if it is.
  public mutating func setMasks<T: FixedWidthInteger & UnsignedInteger>(
    writable writableBits: T, writeOneToClear clearBits: T = 0, at offset: Int
  ) {
    Self.store(writableBits, into: &writable, at: offset)
    Self.store(clearBits & ~writableBits, into: &writeOneToClear, at: offset)
  }

  public func get16(_ offset: Int) -> UInt16 { value(at: offset, as: UInt16.self) }
  public func get32(_ offset: Int) -> UInt32 { value(at: offset, as: UInt32.self) }
  public mutating func set8(_ value: UInt8, at offset: Int) { set(value, at: offset) }
  public mutating func set16(_ value: UInt16, at offset: Int) { set(value, at: offset) }
  public mutating func set32(_ value: UInt32, at offset: Int) { set(value, at: offset) }

  private static func load<T: FixedWidthInteger & UnsignedInteger>(
    from array: [UInt8], at offset: Int
  ) -> T {
    guard let range = range(offset: offset, count: MemoryLayout<T>.size) else { return 0 }
    var result: T = 0
    for (shift, index) in range.enumerated() {
      result |= T(array[index]) << (shift * 8)
    }
    return result
  }

  private static func store<T: FixedWidthInteger & UnsignedInteger>(
    _ value: T, into array: inout [UInt8], at offset: Int
  ) {
    guard let range = range(offset: offset, count: MemoryLayout<T>.size) else { return }
    for (shift, index) in range.enumerated() {
      array[index] = UInt8(truncatingIfNeeded: value >> (shift * 8))
    }
  }
}
