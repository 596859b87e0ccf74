/// I/O Command Set specific Identify data for the NVM command set (CSI 00h),
/// NVM Command Set 1.0 section 4.1.5.
///
/// CNS 06h: Linux reads it (unless the controller limits CNS) for Write Zeroes
/// and Dataset Management limits; the zero default means "no limit reported".
public struct NVMControllerIdentity: Sendable, Hashable {
  public static let size = 4096

  /// Verify / Write Zeroes / Write Uncorrectable size limits, as a power of two
  /// of CAP.MPSMIN units; 0 = no limit beyond MDTS rules of each command.
  public var vsl: UInt8
  public var wzsl: UInt8
  public var wusl: UInt8
  /// Dataset Management: max ranges (DMRL), max logical blocks per range
  /// (DMRSL), max total logical blocks (DMSL); 0 = not reported.
  public var dmrl: UInt8
  public var dmrsl: UInt32
  public var dmsl: UInt64

  public init(
    vsl: UInt8 = 0, wzsl: UInt8 = 0, wusl: UInt8 = 0, dmrl: UInt8 = 0, dmrsl: UInt32 = 0,
    dmsl: UInt64 = 0
  ) {
    self.vsl = vsl
    self.wzsl = wzsl
    self.wusl = wusl
    self.dmrl = dmrl
    self.dmrsl = dmrsl
    self.dmsl = dmsl
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(vsl, at: 0)
    page.put(wzsl, at: 1)
    page.put(wusl, at: 2)
    page.put(dmrl, at: 3)
    page.put(dmrsl, at: 4)
    page.put(dmsl, at: 8)
    return page.bytes
  }
}

/// CNS 05h, CSI 00h: NVM command set specific Identify Namespace.
/// LBSTM (storage tag mask) at 0, PIC (protection capabilities) at 8, and one
/// ELBAF dword per LBA format from byte 12 (STS in 6:0, PIF in 8:7).
public struct NVMNamespaceIdentity: Sendable, Hashable {
  public static let size = 4096

  public var lbstm: UInt64
  public var pic: UInt8
  /// One extended format per entry of the namespace's LBA format list.
  public var extendedFormats: [ExtendedLBAFormat]

  public struct ExtendedLBAFormat: Sendable, Hashable {
    /// Storage Tag Size in bits (0...127 fits 7 bits).
    public var storageTagSize: UInt8
    /// Protection Information Format: 00b 16-bit guard, 01b 32-bit, 10b 64-bit.
    public var protectionInformationFormat: UInt8
    public init(storageTagSize: UInt8 = 0, protectionInformationFormat: UInt8 = 0) {
      self.storageTagSize = storageTagSize
      self.protectionInformationFormat = protectionInformationFormat
    }
    public var dword: UInt32 {
      UInt32(storageTagSize & 0x7F) | UInt32(protectionInformationFormat & 0x3) << 7
    }
  }

  public init(lbstm: UInt64 = 0, pic: UInt8 = 0, extendedFormats: [ExtendedLBAFormat] = []) {
    self.lbstm = lbstm
    self.pic = pic
    self.extendedFormats = extendedFormats
  }

  /// Plain formats without protection information: one zero ELBAF per LBA format.
  public init(formatCount: Int) {
    self.init(
      extendedFormats: Array(
        repeating: ExtendedLBAFormat(),
        count: max(0, min(formatCount, NamespaceIdentity.maxLBAFormats))))
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(lbstm, at: 0)
    page.put(pic, at: 8)
    for (index, format) in extendedFormats.prefix(NamespaceIdentity.maxLBAFormats).enumerated() {
      page.put(format.dword, at: 12 + index * 4)
    }
    return page.bytes
  }
}
