/// Where things live in BAR0 (region 0):
///
///     0x0000  controller registers           trapped: REGION_READ/WRITE
///     0x1000  doorbells (CAP.DSTRD = 0)      memfd page, sparse-mmapped by the client
///     0x2000  MSI-X table                    trapped
///     0x3000  MSI-X PBA                      trapped
///
/// With `--doorbells mapped` only the doorbell page is mmappable: the
/// client's doorbell writes land straight in memory the reactor polls, with
/// no message per I/O. With `trapped` (the default) nothing is, and the page
/// is where REGION_WRITEs to doorbells are stored for `poll()` to read.
public enum BAR0Layout {
  public static let size: UInt64 = 0x4000
  public static let doorbellOffset: UInt64 = 0x1000
  public static let doorbellSize: UInt64 = 0x1000
  public static let msixTableOffset: UInt32 = 0x2000
  public static let msixPBAOffset: UInt32 = 0x3000
  /// The memfd backing BAR0's mmappable part: file offsets equal BAR
  /// offsets, so it spans up to the end of the doorbell page.
  public static let memfdSize: UInt64 = doorbellOffset + doorbellSize
  /// Queue pairs the doorbell page can address (admin included).
  public static let maxQueuePairs = Int(doorbellSize / 8)
}

/// VFIO PCI region indexes.
enum PCIRegionIndex {
  static let bar0 = 0
  static let config = 7
  static let count = 9
}

/// VFIO PCI interrupt indexes.
enum PCIIRQIndex {
  static let intx = 0
  static let msi = 1
  static let msix = 2
  static let error = 3
  static let request = 4
}
