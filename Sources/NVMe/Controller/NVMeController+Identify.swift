extension NVMeController {
  /// Identify Controller data as this controller reports it.
  public var controllerIdentity: ControllerIdentity {
    // Save/Select: Get Features honours SEL and Set Features answers SV
    // (with Feature Identifier Not Saveable), so say so.
    let oncs =
      ControllerIdentity.ONCS.compare | ControllerIdentity.ONCS.datasetManagement
      | ControllerIdentity.ONCS.writeZeroes | ControllerIdentity.ONCS.timestamp
      | ControllerIdentity.ONCS.verify | ControllerIdentity.ONCS.saveSelectInFeatures
      | ControllerIdentity.ONCS.copy
    // SGLS bit 18: an SGL may describe more than the transfer (the walker
    // stops at the transfer length), as Linux's user passthrough sends.
    let sgls =
      settings.sglSupported
      ? ControllerIdentity.SGLS.supportedByteAligned | ControllerIdentity.SGLS.bitBucket
        | ControllerIdentity.SGLS.lengthLargerThanData
      : 0
    let capacity = namespaces.reduce(UInt64(0)) { $0 &+ $1.backend.size }
    return ControllerIdentity(
      serialNumber: settings.serialNumber, modelNumber: settings.modelNumber,
      firmwareRevision: settings.firmwareRevision, mdtsExponent: settings.mdtsExponent,
      controllerID: 0,
      oacs: ControllerIdentity.OACS.formatNVM | ControllerIdentity.OACS.doorbellBufferConfig
        | ControllerIdentity.OACS.deviceSelfTest,
      acl: 3, aerl: 3,
      frmw: 0b0000_0011, elpe: UInt8(clamping: errorLog.capacity - 1), tnvmcap: capacity,
      maxcmd: UInt16(clamping: settings.maxQueueEntries), nn: namespaceCount, oncs: oncs,
      fna: 0, volatileWriteCachePresent: true, flushBroadcastSupported: true,
      ocfs: CopyDescriptorFormat.supportedMask, sgls: sgls,
      edstt: extendedSelfTestMinutes, dsto: ControllerIdentity.DSTO.oneOperationAtATime,
      subnqn: "nqn.2026-11.io.nvme-vfu:\(settings.serialNumber)")
  }

  /// NN: the highest NSID in use (namespaces are numbered from 1).
  var namespaceCount: UInt32 {
    max(UInt32(clamping: settings.maxNamespaces), namespaces.last?.id ?? 0)
  }

  func identify(_ sqe: SubmissionQueueEntry) throws(NVMeStatus) -> UInt32? {
    let cns = UInt8(truncatingIfNeeded: sqe.cdw10)
    let csi = UInt8(truncatingIfNeeded: sqe.cdw11 >> 24)
    let nsid = sqe.namespaceIdentifier
    let page: [UInt8]
    switch cns {
    case 0x00:
      page = try namespaceData(nsid) { ns in
        var bytes = ns.identity.encode()
        // NSATTR (byte 99) bit 0: write protected.
        if ns.isReadOnly { bytes[99] |= 1 }
        return bytes
      }
    case 0x01:
      page = controllerIdentity.encode()
    case 0x02:
      guard let list = activeList(after: nsid) else { throw .invalidNamespaceOrFormat }
      page = list
    case 0x03:
      guard let ns = namespace(nsid) else { throw .invalidNamespaceOrFormat }
      page = NamespaceDescriptor.list(ns.descriptors)
    case 0x05:
      guard csi == NamespaceDescriptor.CommandSet.nvm.rawValue else { throw .invalidField }
      page = try namespaceData(nsid) {
        NVMNamespaceIdentity(formatCount: $0.lbaFormats.count).encode()
      }
    case 0x06:
      guard csi == NamespaceDescriptor.CommandSet.nvm.rawValue else { throw .invalidField }
      // Verify is bounded like a read; the others are not limited.
      page = NVMControllerIdentity(vsl: settings.mdtsExponent).encode()
    case 0x07:
      guard csi == NamespaceDescriptor.CommandSet.nvm.rawValue else { throw .invalidField }
      guard let list = activeList(after: nsid) else { throw .invalidNamespaceOrFormat }
      page = list
    case 0x08:
      page = try namespaceData(nsid) { independentNamespaceData($0) }
    case 0x1C:
      page = IdentifyLists.ioCommandSetCombinations()
    default:
      throw .invalidField
    }
    try sendToHost(page, sqe)
    return 0
  }

  /// Per-namespace Identify data: an active NSID gets `body`, a valid NSID
  /// with no namespace gets zeroes, anything else is Invalid Namespace.
  private func namespaceData(
    _ nsid: UInt32, _ body: (Namespace) -> [UInt8]
  ) throws(NVMeStatus) -> [UInt8] {
    if let ns = namespace(nsid) { return body(ns) }
    guard nsid != 0, nsid <= namespaceCount else { throw .invalidNamespaceOrFormat }
    return NamespaceIdentity.inactive()
  }

  private func activeList(after nsid: UInt32) -> [UInt8]? {
    IdentifyLists.activeNamespaceList(active: namespaces.map(\.id), after: nsid)
  }

  /// CNS 08h, I/O Command Set Independent Identify Namespace (Base 2.0
  /// figure 280): NSATTR (byte 8, bit 0 = write protected) and NSTAT
  /// (byte 14, bit 0 = ready; bytes 13:12 are ENDGID).
  private func independentNamespaceData(_ ns: Namespace) -> [UInt8] {
    var page = DataPage(size: 4096)
    if ns.isReadOnly { page.put(UInt8(1), at: 8) }
    page.put(UInt8(1), at: 14)
    return page.bytes
  }
}
