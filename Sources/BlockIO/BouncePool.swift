import Glibc

/// Aligned buffers for requests O_DIRECT cannot take as they are. Buffers
/// are kept for reuse (up to `retainLimit` bytes), so a steady stream of
/// bounced requests stops allocating after warm-up.
final class BouncePool {
  private let alignment: Int
  private let retainLimit: Int
  private var idle: [UnsafeMutableRawBufferPointer] = []
  private var retained = 0
  /// Sizes are rounded up to this, so buffers fit many requests.
  private static let granule = 64 * 1024

  init(alignment: Int, retainLimit: Int = 32 * 1024 * 1024) {
    self.alignment = max(alignment, 4096)
    self.retainLimit = retainLimit
    idle.reserveCapacity(64)
  }

  deinit {
    for buffer in idle { free(buffer.baseAddress) }
  }

  /// A buffer of at least `byteCount` bytes, or nil when memory is short.
  func take(_ byteCount: Int) -> UnsafeMutableRawBufferPointer? {
    if let found = idle.firstIndex(where: { $0.count >= byteCount }) {
      let buffer = idle.remove(at: found)
      retained &-= buffer.count
      return buffer
    }
    let (padded, overflow) = byteCount.addingReportingOverflow(Self.granule &- 1)
    guard !overflow else { return nil }
    let rounded = padded & ~(Self.granule &- 1)
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, alignment, rounded) == 0, let base = raw else { return nil }
    return UnsafeMutableRawBufferPointer(start: base, count: rounded)
  }

  func give(_ buffer: UnsafeMutableRawBufferPointer) {
    if retained &+ buffer.count <= retainLimit {
      idle.append(buffer)
      retained &+= buffer.count
    } else {
      free(buffer.baseAddress)
    }
  }
}
