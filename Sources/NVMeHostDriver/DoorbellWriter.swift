import CShims
import POSIX
import VFIOUser
import VFIOUserClient

/// Where the host rings NVMe doorbells: straight into BAR0's sparse-mmapped
/// doorbell page when the server offers it (a store, no message), else
/// posted REGION_WRITE messages (No_reply: one sendmsg, no round trip, as
/// QEMU does when nothing is mmappable).
final class DoorbellWriter {
  private let client: VFIOUserClient
  private let region: UInt32
  /// BAR offset of the first doorbell (NVMe: 1000h).
  private let doorbellOffset: UInt64
  /// Bytes between doorbells: 4 << CAP.DSTRD.
  private let stride: Int
  private var mapping: MemoryMapping?
  /// The mapped first doorbell and how many bytes from it are mapped.
  private var doorbells: UnsafeMutableRawPointer?
  private var mappedBytes = 0

  /// Whether doorbells are stores into shared memory (false: posted messages).
  var isMapped: Bool { doorbells != nil }

  /// Looks the region up and maps the part holding the doorbells when it can
  /// (`allowMmap` false forces messages, for tests of that path).
  init(
    client: VFIOUserClient, region: UInt32, doorbellOffset: UInt64, stride: Int,
    allowMmap: Bool
  ) throws(Errno) {
    self.client = client
    self.region = region
    self.doorbellOffset = doorbellOffset
    self.stride = stride
    let reply = try client.regionInfo(region)
    // The descriptor closes with `reply` once mapped (or not).
    guard let fd = reply.fd else { return }
    guard allowMmap, reply.info.flags & RegionInfo.flagMmap != 0 else { return }
    // The mmappable window that holds the first doorbell: a sparse area, or
    // the whole region when the server lists none.
    let window: (offset: UInt64, size: UInt64)?
    if let sparse = reply.sparse {
      window = sparse.areas.first { area in
        area.offset <= doorbellOffset && doorbellOffset - area.offset < area.size
      }.map { ($0.offset, $0.size) }
    } else {
      window = (0, reply.info.size)
    }
    guard let window, window.size > 0,
      !reply.info.offset.addingReportingOverflow(window.offset).overflow
    else { return }
    let mapping = try MemoryMapping.map(
      fd: fd, offset: reply.info.offset &+ window.offset, length: window.size,
      access: .readWrite)
    let skip = Int(doorbellOffset - window.offset)
    self.mapping = mapping
    doorbells = mapping.base + skip
    mappedBytes = mapping.length - skip
  }

  deinit { close() }

  /// Doorbell slot: SQ y tail is 2y, CQ y head is 2y + 1.
  @inline(__always)
  func ring(slot: Int, value: UInt32) throws(Errno) {
    let offset = slot &* stride
    if let doorbells, offset >= 0, offset <= mappedBytes &- 4 {
      // Release: the queue entries written before are visible first.
      cshim_store_release_u32(
        (doorbells + offset).assumingMemoryBound(to: UInt32.self), value.littleEndian)
      return
    }
    // The server handles messages in order: a later request's reply means
    // this doorbell has been applied.
    try client.postRegionWrite32(region, offset: doorbellOffset &+ UInt64(offset), value)
  }

  func close() {
    mapping?.unmap()
    mapping = nil
    doorbells = nil
    mappedBytes = 0
  }
}
