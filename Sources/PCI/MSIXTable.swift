/// One MSI-X table entry as the guest programmed it.
public struct MSIXEntry: Sendable, Hashable {
  public var address: UInt64
  public var data: UInt32
  public var masked: Bool
}

/// The MSI-X vector table and Pending Bit Array contents (PCI 3.0 section
/// 6.8.2), with the guest's access rules. Offsets are relative to the start
/// of the table or PBA, not the BAR.
///
/// Only naturally aligned 4- and 8-byte accesses are accepted, as the spec
/// requires of software; anything else is refused rather than guessed at.
struct MSIXTable: Sendable, Equatable {
  static let entrySize = 16
  /// Vector Control bit 0. All other Vector Control bits are reserved (RO 0).
  static let maskBit: UInt32 = 1

  let vectors: Int
  /// Four dwords per vector: address low, address high, data, vector control.
  private var words: [UInt32]
  /// Bit `v % 64` of word `v / 64` is vector v's pending bit.
  private var pending: [UInt64]

  /// Power-on state: every vector masked, nothing pending.
  init(vectors: Int) {
    self.vectors = max(0, vectors)
    words = Array(repeating: 0, count: self.vectors &* 4)
    pending = Array(repeating: 0, count: (self.vectors &+ 63) / 64)
    for vector in 0..<self.vectors { words[vector &* 4 &+ 3] = Self.maskBit }
  }

  var tableSize: Int { vectors &* Self.entrySize }
  var pbaSize: Int { pending.count &* 8 }

  // MARK: Per-vector state

  func contains(_ vector: Int) -> Bool { vector >= 0 && vector < vectors }

  /// Out-of-range vectors count as masked: they can never be delivered.
  func isMasked(_ vector: Int) -> Bool {
    guard contains(vector) else { return true }
    return words[vector &* 4 &+ 3] & Self.maskBit != 0
  }

  func isPending(_ vector: Int) -> Bool {
    guard contains(vector) else { return false }
    return pending[vector / 64] & (1 << UInt64(vector % 64)) != 0
  }

  mutating func setPending(_ vector: Int, _ isPending: Bool) {
    guard contains(vector) else { return }
    let bit: UInt64 = 1 << UInt64(vector % 64)
    if isPending { pending[vector / 64] |= bit } else { pending[vector / 64] &= ~bit }
  }

  /// Returns true when this call unmasked a masked vector.
  mutating func setMasked(_ vector: Int, _ masked: Bool) -> Bool {
    guard contains(vector) else { return false }
    let wasMasked = isMasked(vector)
    words[vector &* 4 &+ 3] = masked ? Self.maskBit : 0
    return wasMasked && !masked
  }

  func entry(_ vector: Int) -> MSIXEntry? {
    guard contains(vector) else { return nil }
    let base = vector &* 4
    let address = UInt64(words[base]) | UInt64(words[base &+ 1]) << 32
    return MSIXEntry(address: address, data: words[base &+ 2], masked: isMasked(vector))
  }

  /// Vectors with their pending bit set, lowest first.
  var pendingVectors: [Int] {
    var result: [Int] = []
    for (wordIndex, word) in pending.enumerated() where word != 0 {
      for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
        result.append(wordIndex &* 64 &+ bit)
      }
    }
    return result
  }

  // MARK: Guest accesses

  /// First dword index and dword count of a valid access, else nil.
  /// `count` is checked before any arithmetic, so nothing can overflow.
  static func dwords(offset: Int, count: Int, limit: Int) -> Range<Int>? {
    guard count == 4 || count == 8, offset >= 0, offset % count == 0,
      offset <= limit - count
    else { return nil }
    return (offset / 4)..<((offset &+ count) / 4)
  }

  func read(offset: Int, count: Int) -> [UInt8]? {
    guard let range = Self.dwords(offset: offset, count: count, limit: tableSize) else {
      return nil
    }
    return range.flatMap { Self.littleEndian(words[$0]) }
  }

  enum WriteOutcome: Equatable {
    case refused
    /// Applied; `unmasked` is the vector whose mask bit this write cleared.
    case applied(unmasked: Int?)
  }

  mutating func write(offset: Int, bytes: [UInt8]) -> WriteOutcome {
    guard let range = Self.dwords(offset: offset, count: bytes.count, limit: tableSize) else {
      return .refused
    }
    var unmasked: Int?
    // Dwords in ascending order: a qword write of data + control lands the
    // new data before the unmask that may fire it.
    for (position, index) in range.enumerated() {
      let value = Self.dword(bytes, at: position &* 4)
      let vector = index / 4
      switch index % 4 {
      case 0: words[index] = value & ~0x3  // message address is dword aligned
      case 1, 2: words[index] = value
      default:
        if setMasked(vector, value & Self.maskBit != 0) { unmasked = vector }
      }
    }
    return .applied(unmasked: unmasked)
  }

  func readPBA(offset: Int, count: Int) -> [UInt8]? {
    guard let range = Self.dwords(offset: offset, count: count, limit: pbaSize) else {
      return nil
    }
    return range.flatMap { index in
      Self.littleEndian(UInt32(truncatingIfNeeded: pending[index / 2] >> UInt64(32 * (index % 2))))
    }
  }

  /// Validates a PBA write; the PBA is read-only, so nothing changes.
  func acceptsPBAWrite(offset: Int, count: Int) -> Bool {
    Self.dwords(offset: offset, count: count, limit: pbaSize) != nil
  }

  private static func littleEndian(_ value: UInt32) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32($0 * 8)) }
  }

  /// Caller guarantees `bytes` holds at least `start + 4` bytes.
  private static func dword(_ bytes: [UInt8], at start: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start &+ $1]) << UInt32($1 * 8) }
  }
}
