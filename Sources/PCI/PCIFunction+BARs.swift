/// Which part of a BAR an access hits, so the server can route MMIO.
public enum BARAccess: Sendable, Hashable {
  /// Inside the MSI-X table; `offset` is relative to the table start.
  case msixTable(offset: Int)
  /// Inside the PBA; `offset` is relative to the PBA start.
  case msixPBA(offset: Int)
  /// Inside the BAR and outside the MSI-X structures: the device model's.
  case device
  /// Unknown BAR, empty access, past the BAR's end, or straddling the edge
  /// of the MSI-X table or PBA.
  case invalid
}

extension PCIFunction {
  /// The description of BAR `index`; nil for unused slots, including the
  /// upper half of a 64-bit BAR.
  public func barDescription(_ index: Int) -> BARDescription? {
    bars.first { $0.index == index }
  }

  public func barRegionSize(_ index: Int) -> UInt64? {
    barDescription(index)?.size
  }

  /// The address the guest programmed into BAR `index` (both dwords for a
  /// 64-bit BAR), without the type bits. Nil for unused slots.
  public func barAddress(_ index: Int) -> UInt64? {
    barDescription(index)?.address(in: config)
  }

  /// Classifies a guest access of `count` bytes at `offset` into BAR `bar`.
  public func routeBARAccess(bar: Int, offset: UInt64, count: Int) -> BARAccess {
    guard let description = barDescription(bar), count > 0 else { return .invalid }
    let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
    guard !overflow, end <= description.size else { return .invalid }
    let access = offset..<end

    if let msix = msixDescription, msix.bar == bar {
      for (range, isTable) in [(msix.tableRange, true), (msix.pbaRange, false)]
      where range.overlaps(access) {
        guard range.lowerBound <= access.lowerBound, access.upperBound <= range.upperBound
        else { return .invalid }
        // Below the table/PBA size (at most 32 KiB), so it fits an Int.
        let relative = Int(truncatingIfNeeded: access.lowerBound &- range.lowerBound)
        return isTable ? .msixTable(offset: relative) : .msixPBA(offset: relative)
      }
    }
    return .device
  }
}
