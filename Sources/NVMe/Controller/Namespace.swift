import BackendContract

/// One namespace: a backend plus the format it is presented in.
public final class Namespace {
  public let id: UInt32
  public let backend: any BlockBackend
  public let isReadOnly: Bool
  /// Formats offered; Format NVM picks among them.
  public let lbaFormats: [LBAFormat]
  /// The format in use. Unchecked: an index read or assigned whole, read by
  /// every I/O command.
  @exclusivity(unchecked) public private(set) var formatIndex: Int
  public let nguid: [UInt8]
  public let eui64: [UInt8]
  public let uuid: [UInt8]
  /// What it served: commands, bytes, errors, latency.
  public let counters = NamespaceCounters()

  /// `blockSize` must be one of `lbaFormats` and divide the backend's size.
  public init?(
    id: UInt32, backend: any BlockBackend, blockSize: Int = 512, readOnly: Bool = false,
    lbaFormats: [LBAFormat] = [.lba512, .lba4096], identifierSeed: String = ""
  ) {
    guard id != 0, id != 0xFFFF_FFFF,
      let index = lbaFormats.firstIndex(where: { $0.blockSize == blockSize }),
      blockSize > 0, backend.size % UInt64(blockSize) == 0
    else { return nil }
    self.id = id
    self.backend = backend
    self.isReadOnly = readOnly || backend.isReadOnly
    self.lbaFormats = lbaFormats
    self.formatIndex = index
    let digest = NamespaceIdentifiers.digest("\(identifierSeed)/ns\(id)")
    nguid = digest.nguid
    eui64 = digest.eui64
    uuid = digest.uuid
  }

  public var blockSize: Int { lbaFormats[formatIndex].blockSize ?? 512 }
  public var blockShift: Int { Int(lbaFormats[formatIndex].dataSizeExponent) }
  /// NSZE: capacity in logical blocks.
  public var blockCount: UInt64 { backend.size >> UInt64(blockShift) }

  /// Whether `[slba, slba + count)` lies inside the namespace.
  public func contains(slba: UInt64, count: UInt64) -> Bool {
    let (end, overflow) = slba.addingReportingOverflow(count)
    return !overflow && end <= blockCount
  }

  /// Byte offset and length of a block range already checked by `contains`.
  public func byteRange(slba: UInt64, count: UInt64) -> (offset: UInt64, length: UInt64) {
    (slba << UInt64(blockShift), count << UInt64(blockShift))
  }

  /// Whether format `index` is offered and its block size divides the capacity.
  func supportsFormat(_ index: Int) -> Bool {
    guard index >= 0, index < lbaFormats.count, let size = lbaFormats[index].blockSize else {
      return false
    }
    return backend.size % UInt64(size) == 0
  }

  /// Switches to format `index`; false (and no change) unless `supportsFormat`.
  func reformat(to index: Int) -> Bool {
    guard supportsFormat(index) else { return false }
    formatIndex = index
    return true
  }

  /// Copy's limits, the same in bytes for every format. One command copies
  /// at most 4 MiB: the memory backend moves it inline on the reactor (0.7-5.6
  /// ms measured, 1 GiB store, shared 2-vCPU VM), the file backend on its
  /// helper thread, which also
  /// serves flushes and discards (tens of ms on ext4 with O_DIRECT; see
  /// `SyncWorker+Copy.swift` in BlockIO). A single range may be the whole
  /// copy. 128 ranges of 32 bytes are one 4 KiB page of descriptors.
  public static let copyLimitBytes: UInt64 = 4 << 20
  public static let maxCopyRanges = 128

  /// MSSRL and MCL: `copyLimitBytes` in this format's blocks.
  public var copyLimitBlocks: UInt32 { UInt32(Self.copyLimitBytes >> UInt64(blockShift)) }

  public var identity: NamespaceIdentity {
    NamespaceIdentity(
      nsze: blockCount, thinProvisioning: false, lbaFormats: lbaFormats, formatIndex: formatIndex,
      mssrl: UInt16(clamping: copyLimitBlocks), mcl: copyLimitBlocks,
      msrc: UInt8(Self.maxCopyRanges - 1), nguid: nguid, eui64: eui64)
  }

  var descriptors: [NamespaceDescriptor] {
    [.eui64(eui64), .nguid(nguid), .uuid(uuid), .commandSet(.nvm)]
  }
}

/// Stable identifiers derived from the serial number and NSID, so a namespace
/// keeps its NGUID/EUI-64/UUID across restarts of the same configuration.
enum NamespaceIdentifiers {
  /// FNV-1a, 64-bit, twice with different offsets: stable and dependency-free
  /// (uniqueness, not secrecy, is what identifiers need).
  static func digest(_ text: String) -> (nguid: [UInt8], eui64: [UInt8], uuid: [UInt8]) {
    func fnv(_ seed: UInt64) -> UInt64 {
      var hash: UInt64 = seed
      for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01B3
      }
      return hash
    }
    let a = fnv(0xCBF2_9CE4_8422_2325)
    let b = fnv(0x84222325_CBF29CE4)
    let bytes =
      (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * $0)) }
      + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) }
    var uuid = bytes
    uuid[6] = (uuid[6] & 0x0F) | 0x40  // version 4 layout
    uuid[8] = (uuid[8] & 0x3F) | 0x80  // RFC 4122 variant
    var eui = Array(bytes[0..<8])
    eui[0] = eui[0] | 0x02  // locally administered
    return (bytes, eui, uuid)
  }
}
