import POSIX
import VFIOUser

extension NVMeHost {
  /// Config offset of PCIe Device Control in the server's function (the
  /// PCIe capability sits at 0x60).
  public static let deviceControlOffset: UInt64 = 0x68

  /// How the host resets the whole function.
  public enum FunctionReset: Sendable {
    /// Sets Initiate FLR in PCIe Device Control, as Linux's pcie_flr does.
    case initiateFLR
    /// vfio-user DEVICE_RESET, as QEMU sends on a machine reset.
    case deviceReset
  }

  /// Resets the function, then hands completions already posted to
  /// `handler` and every command still outstanding as aborted by the host,
  /// each once. Config space is back at its defaults afterwards (the
  /// caller restores what it needs; `enableController` sets the command
  /// register again).
  public func resetFunction(
    _ how: FunctionReset, _ handler: (NVMeQueue, NVMeCompletion) -> Void = { _, _ in }
  ) throws(NVMeHostError) {
    do throws(Errno) {
      switch how {
      case .initiateFLR:
        let current = try client.regionRead(
          Self.configRegion, offset: Self.deviceControlOffset, count: 2)
        guard current.count == 2 else { throw .protocolError }
        try client.regionWrite(
          Self.configRegion, offset: Self.deviceControlOffset,
          data: [current[0], current[1] | 0x80])
      case .deviceReset:
        try client.reset()
      }
    } catch {
      throw .transport(error)
    }
    allocatedQueues = nil
    shadowDoorbellsActive = false
    abandonQueues(handler)
  }
}
