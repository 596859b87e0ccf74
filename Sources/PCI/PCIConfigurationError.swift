/// Why a function description was refused. These describe mistakes by the
/// program building the device, never by the guest; they are reported instead
/// of trapping so a bad command line cannot crash a server hosting others.
public enum PCIConfigurationError: Error, Sendable, Hashable {
  case barIndexOutOfRange(index: Int)
  /// Size not a power of two, below 16, or above what the BAR kind can
  /// decode (2 GiB for 32-bit memory, 256 bytes for I/O).
  case barSizeInvalid(index: Int, size: UInt64)
  /// Two descriptions claim the same BAR slot (a 64-bit BAR claims two).
  case barSlotConflict(index: Int)
  /// I/O BARs have no prefetchable bit.
  case ioBARPrefetchable(index: Int)
  case msixVectorCountInvalid(Int)
  /// The MSI-X BAR is not described, or is an I/O BAR.
  case msixBARInvalid(bar: Int)
  /// Table and PBA offsets must be 8-byte aligned: the low 3 bits carry the BIR.
  case msixOffsetMisaligned
  case msixStructureOutsideBAR
  case msixTableOverlapsPBA
}
