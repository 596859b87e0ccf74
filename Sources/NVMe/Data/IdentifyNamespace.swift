/// Identify Namespace data structure for the NVM command set (CNS 00h),
/// NVM Command Set 1.0 Figure 114 (Linux `struct nvme_id_ns`).
public struct NamespaceIdentity: Sendable, Hashable {
  public static let size = 4096
  /// The spec allows at most 64 LBA formats (NLBAF is 0-based, 0...63).
  public static let maxLBAFormats = 64

  /// Namespace size / capacity / utilization in logical blocks of the current format.
  public var nsze: UInt64
  public var ncap: UInt64
  public var nuse: UInt64
  public var thinProvisioning: Bool
  /// DAE: reads of deallocated blocks may fail (DULBE feature available).
  public var deallocatedErrorSupported: Bool
  /// UIDREUSE: NGUID/EUI-64 are never reused after the namespace is deleted.
  public var uniqueIDNotReused: Bool
  /// Supported formats, index 0 first; the list must not be empty.
  public var lbaFormats: [LBAFormat]
  /// Index into `lbaFormats` currently in use (FLBAS).
  public var formatIndex: Int
  /// FLBAS bit 4: metadata transferred at the end of the LBA (extended LBA).
  public var metadataExtended: Bool
  /// DLFEAT: bits 2:0 deallocate read behaviour, bit 3 Write Zeroes may deallocate.
  public var dlfeat: UInt8
  /// NMIC bit 0: the namespace may be attached to more than one controller.
  public var shared: Bool
  /// Optional performance hints (0-based logical blocks). Setting any of them
  /// turns on NSFEAT.OPTPERF (bit 4) so hosts read all five.
  public var optimalPerformance: OptimalPerformance?
  /// Namespace Optimal I/O Boundary (NOIOB), logical blocks; 0 = none reported.
  public var noiob: UInt16
  /// NVM capacity in bytes (NVMCAP, low 64 bits of a 128-bit field).
  public var nvmcap: UInt64
  /// Copy limits: Maximum Single Source Range Length, Maximum Copy Length
  /// (logical blocks) and Maximum Source Range Count (0-based).
  public var mssrl: UInt16
  public var mcl: UInt32
  public var msrc: UInt8
  public var nguid: [UInt8]
  public var eui64: [UInt8]

  public struct OptimalPerformance: Sendable, Hashable {
    public var npwg: UInt16
    public var npwa: UInt16
    public var npdg: UInt16
    public var npda: UInt16
    public var nows: UInt16
    public init(npwg: UInt16, npwa: UInt16, npdg: UInt16, npda: UInt16, nows: UInt16) {
      self.npwg = npwg
      self.npwa = npwa
      self.npdg = npdg
      self.npda = npda
      self.nows = nows
    }
  }

  /// DLFEAT values.
  public enum DLFEAT {
    /// 001b: a read of a deallocated block returns all zeroes.
    public static let readsZeroes: UInt8 = 0b001
    /// Write Zeroes with DEAC set may deallocate the range.
    public static let writeZeroesDeallocates: UInt8 = 1 << 3
  }

  public init(
    nsze: UInt64, ncap: UInt64? = nil, nuse: UInt64? = nil,
    thinProvisioning: Bool = false, deallocatedErrorSupported: Bool = false,
    uniqueIDNotReused: Bool = false,
    lbaFormats: [LBAFormat] = [.lba512, .lba4096], formatIndex: Int = 0,
    metadataExtended: Bool = false,
    dlfeat: UInt8 = DLFEAT.readsZeroes | DLFEAT.writeZeroesDeallocates,
    shared: Bool = false, optimalPerformance: OptimalPerformance? = nil, noiob: UInt16 = 0,
    nvmcap: UInt64 = 0, mssrl: UInt16 = 0, mcl: UInt32 = 0, msrc: UInt8 = 0,
    nguid: [UInt8] = [], eui64: [UInt8] = []
  ) {
    self.nsze = nsze
    self.ncap = ncap ?? nsze
    self.nuse = nuse ?? nsze
    self.thinProvisioning = thinProvisioning
    self.deallocatedErrorSupported = deallocatedErrorSupported
    self.uniqueIDNotReused = uniqueIDNotReused
    self.lbaFormats = lbaFormats
    self.formatIndex = formatIndex
    self.metadataExtended = metadataExtended
    self.dlfeat = dlfeat
    self.shared = shared
    self.optimalPerformance = optimalPerformance
    self.noiob = noiob
    self.nvmcap = nvmcap
    self.mssrl = mssrl
    self.mcl = mcl
    self.msrc = msrc
    self.nguid = nguid
    self.eui64 = eui64
  }

  /// The format in use, or nil if `formatIndex` is out of range.
  public var currentFormat: LBAFormat? {
    guard formatIndex >= 0, formatIndex < lbaFormats.count else { return nil }
    return lbaFormats[formatIndex]
  }

  public var nsfeat: UInt8 {
    var bits: UInt8 = 0
    if thinProvisioning { bits |= 1 << 0 }
    if deallocatedErrorSupported { bits |= 1 << 2 }
    if uniqueIDNotReused { bits |= 1 << 3 }
    if optimalPerformance != nil { bits |= 1 << 4 }
    return bits
  }

  /// NLBAF is 0-based; an empty list encodes as 0 (one all-zero format).
  public var nlbaf: UInt8 {
    UInt8(clamping: max(0, min(lbaFormats.count, Self.maxLBAFormats) - 1))
  }

  /// FLBAS: index bits 3:0 in 3:0, index bits 5:4 in 6:5, extended metadata in bit 4.
  public var flbas: UInt8 {
    let index = UInt8(clamping: max(0, min(formatIndex, Self.maxLBAFormats - 1)))
    var bits = (index & 0x0F) | ((index >> 4) & 0x3) << 5
    if metadataExtended { bits |= 1 << 4 }
    return bits
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(nsze, at: 0)
    page.put(ncap, at: 8)
    page.put(nuse, at: 16)
    page.put(nsfeat, at: 24)
    page.put(nlbaf, at: 25)
    page.put(flbas, at: 26)
    page.put(shared ? UInt8(1) : 0, at: 30)
    page.put(dlfeat, at: 33)
    page.put(noiob, at: 46)
    page.put128(low: nvmcap, at: 48)
    if let perf = optimalPerformance {
      page.put(perf.npwg, at: 64)
      page.put(perf.npwa, at: 66)
      page.put(perf.npdg, at: 68)
      page.put(perf.npda, at: 70)
      page.put(perf.nows, at: 72)
    }
    page.put(mssrl, at: 74)
    page.put(mcl, at: 76)
    page.put(msrc, at: 80)
    // Identifiers are fixed width; anything else is dropped rather than
    // truncated so a malformed ID never reaches the host half-written.
    if nguid.count == 16 { page.putBytes(nguid, at: 104) }
    if eui64.count == 8 { page.putBytes(eui64, at: 120) }
    for (index, format) in lbaFormats.prefix(Self.maxLBAFormats).enumerated() {
      page.put(format.dword, at: 128 + index * 4)
    }
    return page.bytes
  }

  /// All zeroes: the answer for an inactive (allocated but not attached) NSID,
  /// and for an unused valid NSID, per Base 2.0 section 5.17.2.1.
  public static func inactive() -> [UInt8] {
    [UInt8](repeating: 0, count: size)
  }
}
