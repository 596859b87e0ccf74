/// Identify Controller data structure (CNS 01h), NVM Express Base 2.0 Figure 275.
///
/// Plain configuration in, 4096 bytes out. Field names follow the spec's
/// abbreviations (and Linux `struct nvme_id_ctrl` / nvme-cli `id-ctrl`).
public struct ControllerIdentity: Sendable, Hashable {
  public static let size = 4096

  /// Version 2.0.0 as VER encodes it: major in 31:16, minor in 15:8, tertiary in 7:0.
  public static let version20: UInt32 = 0x0002_0000

  public var vid: UInt16
  public var ssvid: UInt16
  public var serialNumber: String
  public var modelNumber: String
  public var firmwareRevision: String
  /// Recommended Arbitration Burst (RAB), as a power of two.
  public var rab: UInt8
  /// IEEE OUI, lowest byte first in memory as the spec stores it (bytes 73-75).
  public var ieeeOUI: UInt32
  /// Multi-path I/O and namespace sharing capabilities (CMIC).
  public var cmic: UInt8
  /// Maximum Data Transfer Size as a power of two of CAP.MPSMIN pages; 0 = no limit.
  public var mdtsExponent: UInt8
  public var controllerID: UInt16
  public var version: UInt32
  /// RTD3 resume/entry latency in microseconds; 0 = not reported.
  public var rtd3r: UInt32
  public var rtd3e: UInt32
  public var oaes: UInt32
  public var ctratt: UInt32
  /// Controller Type: 1 = I/O controller.
  public var controllerType: UInt8
  public var oacs: UInt16
  /// Abort Command Limit, 0-based.
  public var acl: UInt8
  /// Asynchronous Event Request Limit, 0-based.
  public var aerl: UInt8
  public var frmw: UInt8
  public var lpa: UInt8
  /// Error Log Page Entries, 0-based.
  public var elpe: UInt8
  /// Warning / critical composite temperature thresholds in Kelvin.
  public var wctemp: UInt16
  public var cctemp: UInt16
  /// Keep Alive Support granularity in 100 ms units; 0 = keep alive unsupported.
  public var kas: UInt16
  /// Total NVM capacity in bytes (TNVMCAP); 0 when namespace management is absent.
  public var tnvmcap: UInt64
  /// The one SQE and CQE size this controller has, as log2 (64 and 16 bytes).
  public static let submissionEntryExponent: UInt8 = 6
  public static let completionEntryExponent: UInt8 = 4
  /// SQES/CQES as log2 of the entry size: required (min) and maximum.
  public var sqesMin = submissionEntryExponent
  public var sqesMax = submissionEntryExponent
  public var cqesMin = completionEntryExponent
  public var cqesMax = completionEntryExponent
  /// Maximum outstanding commands (MAXCMD); 0 = not reported (PCIe may leave it 0).
  public var maxcmd: UInt16
  /// Number of Namespaces: the largest valid NSID.
  public var nn: UInt32
  public var oncs: UInt16
  public var fuses: UInt16
  public var fna: UInt8
  public var volatileWriteCachePresent: Bool
  /// VWC bits 2:1 = 11b: Flush with NSID FFFFFFFFh is supported.
  public var flushBroadcastSupported: Bool
  /// Atomic Write Unit Normal / Power Fail, 0-based logical blocks.
  public var awun: UInt16
  public var awupf: UInt16
  /// NVM Vendor Specific Command Configuration.
  public var nvscc: UInt8
  /// Optional Copy Formats Supported (OCFS): bit n = Copy descriptor format n.
  public var ocfs: UInt16
  public var sgls: UInt32
  /// Maximum Number of Allowed Namespaces (MNAN); 0 = not reported.
  public var mnan: UInt32
  public var subnqn: String
  /// NPSS is derived: count of descriptors minus one.
  public var powerStates: [PowerStateDescriptor]

  /// Extended Device Self-test Time in minutes (EDSTT, bytes 317:316).
  public var edstt: UInt16
  /// Device Self-test Options (DSTO, byte 318).
  public var dsto: UInt8

  public enum DSTO {
    /// Bit 0: one device self-test operation at a time in the subsystem.
    public static let oneOperationAtATime: UInt8 = 1 << 0
  }

  /// OACS bits (Base 2.0 Fig. 275, bytes 257:256).
  public enum OACS {
    public static let securitySendReceive: UInt16 = 1 << 0
    public static let formatNVM: UInt16 = 1 << 1
    public static let firmwareDownloadCommit: UInt16 = 1 << 2
    public static let namespaceManagement: UInt16 = 1 << 3
    public static let deviceSelfTest: UInt16 = 1 << 4
    public static let directives: UInt16 = 1 << 5
    public static let doorbellBufferConfig: UInt16 = 1 << 8
  }

  /// ONCS bits (bytes 521:520).
  public enum ONCS {
    public static let compare: UInt16 = 1 << 0
    public static let writeUncorrectable: UInt16 = 1 << 1
    public static let datasetManagement: UInt16 = 1 << 2
    public static let writeZeroes: UInt16 = 1 << 3
    public static let saveSelectInFeatures: UInt16 = 1 << 4
    public static let reservations: UInt16 = 1 << 5
    public static let timestamp: UInt16 = 1 << 6
    public static let verify: UInt16 = 1 << 7
    public static let copy: UInt16 = 1 << 8
  }

  /// LPA bits (byte 261).
  public enum LPA {
    public static let smartPerNamespace: UInt8 = 1 << 0
    public static let commandsSupportedAndEffects: UInt8 = 1 << 1
    /// Extended data: NUMDU, LPOL/LPOU honoured by Get Log Page.
    public static let extendedData: UInt8 = 1 << 2
  }

  /// OAES bits (bytes 95:92).
  public enum OAES {
    public static let namespaceAttributeNotices: UInt32 = 1 << 8
    public static let firmwareActivationNotices: UInt32 = 1 << 9
  }

  /// SGLS bits (bytes 539:536).
  public enum SGLS {
    /// 01b in bits 1:0: SGLs supported, no alignment or granularity requirement.
    public static let supportedByteAligned: UInt32 = 0b01
    /// 10b in bits 1:0: SGLs supported, data blocks must be dword aligned.
    public static let supportedDwordAligned: UInt32 = 0b10
    public static let bitBucket: UInt32 = 1 << 16
    public static let lengthLargerThanData: UInt32 = 1 << 18
  }

  /// FNA bits (byte 524).
  public enum FNA {
    public static let formatAppliesToAllNamespaces: UInt8 = 1 << 0
    public static let secureEraseAppliesToAllNamespaces: UInt8 = 1 << 1
    public static let cryptographicEraseSupported: UInt8 = 1 << 2
  }

  public init(
    vid: UInt16 = 0x4E56, ssvid: UInt16 = 0x4E56,
    serialNumber: String, modelNumber: String = "nvme-vfu", firmwareRevision: String = "1.0",
    rab: UInt8 = 0, ieeeOUI: UInt32 = 0, cmic: UInt8 = 0, mdtsExponent: UInt8 = 7,
    controllerID: UInt16 = 0, version: UInt32 = ControllerIdentity.version20,
    rtd3r: UInt32 = 0, rtd3e: UInt32 = 0,
    oaes: UInt32 = OAES.namespaceAttributeNotices, ctratt: UInt32 = 0, controllerType: UInt8 = 1,
    oacs: UInt16 = 0, acl: UInt8 = 3, aerl: UInt8 = 3,
    frmw: UInt8 = 0b0000_0011, lpa: UInt8 = LPA.commandsSupportedAndEffects | LPA.extendedData,
    elpe: UInt8 = 63, wctemp: UInt16 = 343, cctemp: UInt16 = 373, kas: UInt16 = 0,
    tnvmcap: UInt64 = 0, maxcmd: UInt16 = 0, nn: UInt32 = 1,
    oncs: UInt16 = ONCS.datasetManagement | ONCS.writeZeroes | ONCS.timestamp,
    fuses: UInt16 = 0, fna: UInt8 = FNA.formatAppliesToAllNamespaces,
    volatileWriteCachePresent: Bool = true, flushBroadcastSupported: Bool = true,
    awun: UInt16 = 0, awupf: UInt16 = 0, nvscc: UInt8 = 0,
    ocfs: UInt16 = 0, sgls: UInt32 = 0, mnan: UInt32 = 0, edstt: UInt16 = 0, dsto: UInt8 = 0,
    subnqn: String,
    powerStates: [PowerStateDescriptor] = [PowerStateDescriptor()]
  ) {
    self.vid = vid
    self.ssvid = ssvid
    self.serialNumber = serialNumber
    self.modelNumber = modelNumber
    self.firmwareRevision = firmwareRevision
    self.rab = rab
    self.ieeeOUI = ieeeOUI
    self.cmic = cmic
    self.mdtsExponent = mdtsExponent
    self.controllerID = controllerID
    self.version = version
    self.rtd3r = rtd3r
    self.rtd3e = rtd3e
    self.oaes = oaes
    self.ctratt = ctratt
    self.controllerType = controllerType
    self.oacs = oacs
    self.acl = acl
    self.aerl = aerl
    self.frmw = frmw
    self.lpa = lpa
    self.elpe = elpe
    self.wctemp = wctemp
    self.cctemp = cctemp
    self.kas = kas
    self.tnvmcap = tnvmcap
    self.maxcmd = maxcmd
    self.nn = nn
    self.oncs = oncs
    self.fuses = fuses
    self.fna = fna
    self.volatileWriteCachePresent = volatileWriteCachePresent
    self.flushBroadcastSupported = flushBroadcastSupported
    self.awun = awun
    self.awupf = awupf
    self.nvscc = nvscc
    self.sgls = sgls
    self.mnan = mnan
    self.edstt = edstt
    self.dsto = dsto
    self.ocfs = ocfs
    self.subnqn = subnqn
    self.powerStates = powerStates
  }

  /// The VWC byte: bit 0 present; bits 2:1 describe Flush with the broadcast NSID
  /// (only meaningful when a cache is present).
  public var vwcByte: UInt8 {
    guard volatileWriteCachePresent else { return 0 }
    return flushBroadcastSupported ? 0b111 : 0b101
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(vid, at: 0)
    page.put(ssvid, at: 2)
    page.putASCII(serialNumber, at: 4, length: 20)
    page.putASCII(modelNumber, at: 24, length: 40)
    page.putASCII(firmwareRevision, at: 64, length: 8)
    page.put(rab, at: 72)
    page.put(UInt8(truncatingIfNeeded: ieeeOUI), at: 73)
    page.put(UInt8(truncatingIfNeeded: ieeeOUI >> 8), at: 74)
    page.put(UInt8(truncatingIfNeeded: ieeeOUI >> 16), at: 75)
    page.put(cmic, at: 76)
    page.put(mdtsExponent, at: 77)
    page.put(controllerID, at: 78)
    page.put(version, at: 80)
    page.put(rtd3r, at: 84)
    page.put(rtd3e, at: 88)
    page.put(oaes, at: 92)
    page.put(ctratt, at: 96)
    page.put(controllerType, at: 111)
    page.put(oacs, at: 256)
    page.put(acl, at: 258)
    page.put(aerl, at: 259)
    page.put(frmw, at: 260)
    page.put(lpa, at: 261)
    page.put(elpe, at: 262)
    page.put(npss, at: 263)
    page.put(wctemp, at: 266)
    page.put(cctemp, at: 268)
    page.put128(low: tnvmcap, at: 280)
    page.put(edstt, at: 316)
    page.put(dsto, at: 318)
    page.put(kas, at: 320)
    page.put(UInt8((sqesMax & 0xF) << 4 | (sqesMin & 0xF)), at: 512)
    page.put(UInt8((cqesMax & 0xF) << 4 | (cqesMin & 0xF)), at: 513)
    page.put(maxcmd, at: 514)
    page.put(nn, at: 516)
    page.put(oncs, at: 520)
    page.put(fuses, at: 522)
    page.put(fna, at: 524)
    page.put(vwcByte, at: 525)
    page.put(awun, at: 526)
    page.put(awupf, at: 528)
    page.put(nvscc, at: 530)
    page.put(ocfs, at: 534)
    page.put(sgls, at: 536)
    page.put(mnan, at: 540)
    // SUBNQN is a NUL-terminated UTF-8 string; 255 bytes keep the terminator.
    page.putNULPadded(subnqn, at: 768, length: 255)
    for (index, state) in powerStates.prefix(32).enumerated() {
      state.write(into: &page, at: 2048 + index * PowerStateDescriptor.size)
    }
    return page.bytes
  }

  /// NPSS is 0-based; an empty list still reports state 0 (it is mandatory).
  public var npss: UInt8 {
    UInt8(clamping: max(0, min(powerStates.count, 32) - 1))
  }
}
