/// What address space a BAR decodes.
public enum BARKind: Sendable, Hashable {
  case memory32
  /// Occupies two BAR slots: `index` (low dword) and `index + 1` (high dword).
  case memory64
  case io
}

/// One Base Address Register the function implements.
public struct BARDescription: Sendable, Hashable {
  public var index: Int
  /// Region size in bytes: a power of two, at least 16.
  public var size: UInt64
  public var kind: BARKind
  public var prefetchable: Bool

  public init(index: Int, size: UInt64, kind: BARKind, prefetchable: Bool = false) {
    self.index = index
    self.size = size
    self.kind = kind
    self.prefetchable = prefetchable
  }

  /// BAR slots this description occupies.
  var slots: ClosedRange<Int> {
    kind == .memory64 ? index...(index &+ 1) : index...index
  }

  /// Largest region each kind can decode: 32-bit memory BARs keep bit 31 as
  /// an address bit; I/O BARs are limited to 256 bytes by the PCI spec.
  private var maximumSize: UInt64 {
    switch kind {
    case .memory32: 1 << 31
    case .memory64: 1 << 63
    case .io: 256
    }
  }

  func validate() throws(PCIConfigurationError) {
    guard (0...5).contains(index), slots.upperBound <= 5 else {
      throw .barIndexOutOfRange(index: index)
    }
    guard size.nonzeroBitCount == 1, size >= 16, size <= maximumSize else {
      throw .barSizeInvalid(index: index, size: size)
    }
    if kind == .io && prefetchable { throw .ioBARPrefetchable(index: index) }
  }

  /// Read-only type bits in the low dword (PCI 3.0 section 6.2.5.1).
  var typeBits: UInt32 {
    switch kind {
    case .io: 0x1
    case .memory32: prefetchable ? 0x8 : 0x0
    case .memory64: 0x4 | (prefetchable ? 0x8 : 0x0)
    }
  }

  /// Low bits of the BAR that are flags, not address.
  var flagBits: UInt32 { kind == .io ? 0x3 : 0xF }

  /// Address bits the guest can program. Sizing falls out of the masks:
  /// writing all-ones stores only these bits, so the BAR reads back
  /// ~(size - 1) plus the read-only type bits.
  var addressMask: UInt64 {
    let mask = ~(size &- 1)
    return kind == .memory64 ? mask : mask & 0xFFFF_FFFF
  }

  /// Sets the power-on value (address 0) and masks of the BAR's slot(s).
  func install(into config: inout ConfigSpace) {
    let low = HeaderOffset.bar(index)
    config.set32(typeBits, at: low)
    config.setMasks(
      writable: UInt32(truncatingIfNeeded: addressMask) & ~flagBits, at: low)
    if kind == .memory64 {
      let high = HeaderOffset.bar(index &+ 1)
      config.set32(0, at: high)
      config.setMasks(writable: UInt32(truncatingIfNeeded: addressMask >> 32), at: high)
    }
  }

  /// The address the guest programmed, flags stripped.
  func address(in config: ConfigSpace) -> UInt64 {
    var address = UInt64(config.get32(HeaderOffset.bar(index)) & ~flagBits)
    if kind == .memory64 {
      address |= UInt64(config.get32(HeaderOffset.bar(index &+ 1))) << 32
    }
    return address
  }
}
