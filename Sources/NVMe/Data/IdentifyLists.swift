/// List-shaped Identify data: CNS 02h (active NSIDs), CNS 03h (namespace
/// identification descriptors) and CNS 1Ch (I/O command set combinations).
public enum IdentifyLists {
  public static let size = 4096
  /// A 4096-byte page holds 1024 dword NSIDs.
  public static let maxNamespaceIDs = 1024

  /// CNS 02h: active NSIDs strictly greater than `after`, ascending, at most
  /// 1024, zero-terminated by the zero fill. Returns nil for NSID FFFFFFFEh or
  /// FFFFFFFFh, which the spec says to abort with Invalid Namespace or Format.
  /// Duplicates and NSID 0 in `active` are ignored.
  public static func activeNamespaceList(active: [UInt32], after: UInt32) -> [UInt8]? {
    guard after < 0xFFFF_FFFE else { return nil }
    let ids = Set(active.filter { $0 > after && $0 != 0 && $0 != 0xFFFF_FFFF }).sorted()
    var page = DataPage(size: size)
    for (index, nsid) in ids.prefix(maxNamespaceIDs).enumerated() {
      page.put(nsid, at: index * 4)
    }
    return page.bytes
  }

  /// CNS 1Ch: I/O Command Set data structure. Index 0 is the only combination
  /// we offer, and it holds just the NVM command set (bit 0).
  public static func ioCommandSetCombinations() -> [UInt8] {
    var page = DataPage(size: size)
    page.put(UInt64(1) << NamespaceDescriptor.CommandSet.nvm.rawValue, at: 0)
    return page.bytes
  }
}

/// One entry of the Namespace Identification Descriptor list (Base 2.0 Fig. 283):
/// NIDT (1 byte), NIDL (1 byte), 2 reserved bytes, then NIDL bytes of NID.
public enum NamespaceDescriptor: Sendable, Hashable {
  case eui64([UInt8])
  case nguid([UInt8])
  case uuid([UInt8])
  case commandSet(CommandSet)

  /// Command Set Identifiers (CSI).
  public enum CommandSet: UInt8, Sendable {
    case nvm = 0
    case keyValue = 1
    case zoned = 2
  }

  public var type: UInt8 {
    switch self {
    case .eui64: 1
    case .nguid: 2
    case .uuid: 3
    case .commandSet: 4
    }
  }

  /// The fixed NID length for this type; payloads of another length are invalid.
  public var length: Int {
    switch self {
    case .eui64: 8
    case .nguid, .uuid: 16
    case .commandSet: 1
    }
  }

  var payload: [UInt8] {
    switch self {
    case .eui64(let b), .nguid(let b), .uuid(let b): b
    case .commandSet(let csi): [csi.rawValue]
    }
  }

  /// An all-zero EUI-64/NGUID/UUID means "not reported" and must not be listed.
  var isReportable: Bool {
    payload.count == length && (type == 4 || payload.contains { $0 != 0 })
  }

  /// CNS 03h: the descriptor list, terminated by the zero fill. Wrong-length or
  /// all-zero identifiers are skipped so the host never parses a bad entry.
  public static func list(_ descriptors: [NamespaceDescriptor]) -> [UInt8] {
    var page = DataPage(size: IdentifyLists.size)
    var offset = 0
    for descriptor in descriptors where descriptor.isReportable {
      let entryLength = 4 + descriptor.length
      // Keep at least a 4-byte zero header at the end as the terminator.
      guard offset + entryLength <= IdentifyLists.size - 4 else { break }
      page.put(descriptor.type, at: offset)
      page.put(UInt8(descriptor.length), at: offset + 1)
      page.putBytes(descriptor.payload, at: offset + 4)
      offset += entryLength
    }
    return page.bytes
  }
}
