import NVMe

extension NVMeHost {
  /// Get Log Page (02h) `identifier`, the first `bytes` (a multiple of 4,
  /// at most 4096) for `namespace` (FFFFFFFFh: the controller), read into
  /// the scratch page. RAE is clear: reading a log acknowledges its events.
  public func logPage(_ identifier: UInt8, bytes: Int, namespace: UInt32 = 0xFFFF_FFFF)
    throws(NVMeHostError) -> [UInt8]
  {
    guard bytes >= 4, bytes <= scratch.count, bytes % 4 == 0 else {
      throw .invalidArgument("log page of \(bytes) bytes")
    }
    let dwords = UInt32(bytes / 4 - 1)
    try admin(
      NVMeCommand(
        opcode: AdminOpcode.getLogPage.rawValue, namespaceID: namespace,
        cdw10: (dwords & 0xFFFF) << 16 | UInt32(identifier), cdw11: dwords >> 16, data: scratch))
    return Array(scratch.bytes[0..<bytes])
  }
}
