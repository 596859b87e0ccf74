import NVMe

/// Identify Controller (CNS 01h) as the host reads it back: the fields
/// `nvme id-ctrl` prints, under its names.
public struct IdentifyControllerData: Sendable, Hashable {
  public var vid: UInt16
  public var ssvid: UInt16
  public var sn: String
  public var mn: String
  public var fr: String
  public var rab: UInt8
  public var ieee: UInt32
  public var cmic: UInt8
  /// Maximum data transfer size as a power of two of CAP.MPSMIN pages; 0 = no limit.
  public var mdts: UInt8
  public var cntlid: UInt16
  public var ver: UInt32
  public var oaes: UInt32
  public var ctratt: UInt32
  public var cntrltype: UInt8
  public var oacs: UInt16
  public var acl: UInt8
  public var aerl: UInt8
  public var frmw: UInt8
  public var lpa: UInt8
  public var elpe: UInt8
  public var npss: UInt8
  public var wctemp: UInt16
  public var cctemp: UInt16
  public var tnvmcap: UInt64
  public var kas: UInt16
  public var sqes: UInt8
  public var cqes: UInt8
  public var maxcmd: UInt16
  public var nn: UInt32
  public var oncs: UInt16
  public var fuses: UInt16
  public var fna: UInt8
  public var vwc: UInt8
  public var awun: UInt16
  public var awupf: UInt16
  public var nvscc: UInt8
  public var sgls: UInt32
  public var mnan: UInt32
  public var subnqn: String

  /// Decodes the 4096-byte structure; nil when it is shorter.
  public init?(bytes: [UInt8]) {
    guard bytes.count >= 4096 else { return nil }
    let page = IdentifyPage(bytes)
    vid = page.read(0)
    ssvid = page.read(2)
    sn = page.ascii(4, 20)
    mn = page.ascii(24, 40)
    fr = page.ascii(64, 8)
    rab = page.read(72)
    ieee =
      UInt32(page.read(73) as UInt8) | UInt32(page.read(74) as UInt8) << 8
      | UInt32(page.read(75) as UInt8) << 16
    cmic = page.read(76)
    mdts = page.read(77)
    cntlid = page.read(78)
    ver = page.read(80)
    oaes = page.read(92)
    ctratt = page.read(96)
    cntrltype = page.read(111)
    oacs = page.read(256)
    acl = page.read(258)
    aerl = page.read(259)
    frmw = page.read(260)
    lpa = page.read(261)
    elpe = page.read(262)
    npss = page.read(263)
    wctemp = page.read(266)
    cctemp = page.read(268)
    tnvmcap = page.read(280)
    kas = page.read(320)
    sqes = page.read(512)
    cqes = page.read(513)
    maxcmd = page.read(514)
    nn = page.read(516)
    oncs = page.read(520)
    fuses = page.read(522)
    fna = page.read(524)
    vwc = page.read(525)
    awun = page.read(526)
    awupf = page.read(528)
    nvscc = page.read(530)
    sgls = page.read(536)
    mnan = page.read(540)
    subnqn = page.nulTerminated(768, 256)
  }

  /// OACS bit 8: Doorbell Buffer Config (shadow doorbells, EventIdx).
  public var supportsDoorbellBufferConfig: Bool { oacs & (1 << 8) != 0 }

  /// SGLS bits 1:0 non-zero: NVM commands may use SGLs.
  public var supportsSGL: Bool { sgls & 0x3 != 0 }

  /// Largest transfer in bytes for a minimum page size, nil when unlimited.
  public func maxTransferBytes(minimumPageSize: Int = 4096) -> Int? {
    guard mdts != 0 else { return nil }
    guard mdts < 40 else { return Int.max }
    return minimumPageSize << Int(mdts)
  }
}

/// Identify Namespace (CNS 00h, NVM command set) as the host reads it back.
public struct IdentifyNamespaceData: Sendable, Hashable {
  public var nsze: UInt64
  public var ncap: UInt64
  public var nuse: UInt64
  public var nsfeat: UInt8
  public var nlbaf: UInt8
  public var flbas: UInt8
  public var mc: UInt8
  public var dpc: UInt8
  public var dps: UInt8
  public var nmic: UInt8
  public var dlfeat: UInt8
  public var nguid: [UInt8]
  public var eui64: [UInt8]
  /// NLBAF + 1 formats (at most 64).
  public var lbaFormats: [LBAFormat]

  public init?(bytes: [UInt8]) {
    guard bytes.count >= 4096 else { return nil }
    let page = IdentifyPage(bytes)
    nsze = page.read(0)
    ncap = page.read(8)
    nuse = page.read(16)
    nsfeat = page.read(24)
    nlbaf = page.read(25)
    flbas = page.read(26)
    mc = page.read(27)
    dpc = page.read(28)
    dps = page.read(29)
    nmic = page.read(30)
    dlfeat = page.read(33)
    nguid = Array(bytes[104..<120])
    eui64 = Array(bytes[120..<128])
    let count = min(Int(nlbaf) + 1, 64)
    lbaFormats = (0..<count).map { index in
      let dword: UInt32 = page.read(128 + index * 4)
      return LBAFormat(
        metadataSize: UInt16(truncatingIfNeeded: dword),
        dataSizeExponent: UInt8(truncatingIfNeeded: dword >> 16),
        relativePerformance: UInt8(truncatingIfNeeded: dword >> 24) & 0x3)
    }
  }

  /// FLBAS: format index bits 3:0 plus bits 6:5 as index bits 5:4.
  public var formatIndex: Int { Int(flbas & 0xF) | Int((flbas >> 5) & 0x3) << 4 }

  /// The format in use, nil when FLBAS points past the list.
  public var currentFormat: LBAFormat? {
    formatIndex < lbaFormats.count ? lbaFormats[formatIndex] : nil
  }

  /// Bytes per logical block in the current format.
  public var blockSize: Int? { currentFormat?.blockSize }
}

/// Little-endian reads that never leave the page (fields past the end read 0).
struct IdentifyPage {
  let bytes: [UInt8]
  init(_ bytes: [UInt8]) { self.bytes = bytes }

  func read<T: FixedWidthInteger>(_ offset: Int) -> T {
    DataPage.read(T.self, from: bytes, at: offset) ?? 0
  }

  /// Space-padded ASCII, trailing blanks dropped.
  func ascii(_ offset: Int, _ length: Int) -> String {
    text(offset, length).replacingTrailing(" ")
  }

  func nulTerminated(_ offset: Int, _ length: Int) -> String {
    let end = min(offset + length, bytes.count)
    guard offset < end else { return "" }
    let field = bytes[offset..<end]
    let stop = field.firstIndex(of: 0) ?? end
    return String(decoding: bytes[offset..<stop], as: UTF8.self)
  }

  private func text(_ offset: Int, _ length: Int) -> String {
    let end = min(offset + length, bytes.count)
    guard offset < end else { return "" }
    return String(
      decoding: bytes[offset..<end].map { (0x20...0x7E).contains($0) ? $0 : 0x20 }, as: UTF8.self)
  }
}

extension String {
  fileprivate func replacingTrailing(_ pad: Character) -> String {
    var result = self
    while result.last == pad || result.last == "\0" { result.removeLast() }
    return result
  }
}
