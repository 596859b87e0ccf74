/// Changed Namespace List log (LID 04h): up to 1024 NSIDs whose Identify
/// Namespace data changed since the log was last read. More than 1024 changes
/// collapse to FFFFFFFFh in the first entry (the host then rescans everything).
public struct ChangedNamespaceList: Sendable, Hashable {
  public static let size = 4096
  public static let capacity = 1024
  public static let overflowMarker: UInt32 = 0xFFFF_FFFF

  public private(set) var changed: [UInt32] = []
  public private(set) var overflowed = false

  public init() {}

  /// Notes a change; NSID 0 and the broadcast value are not namespaces.
  public mutating func note(_ nsid: UInt32) {
    guard nsid != 0, nsid != Self.overflowMarker, !overflowed else { return }
    guard !changed.contains(nsid) else { return }
    if changed.count == Self.capacity {
      overflowed = true
      changed = []
    } else {
      changed.append(nsid)
    }
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    if overflowed {
      page.put(Self.overflowMarker, at: 0)
    } else {
      for (index, nsid) in changed.sorted().enumerated() {
        page.put(nsid, at: index * 4)
      }
    }
    return page.bytes
  }

  /// Reading the log clears it (Base 2.0 section 5.16.1.5).
  public mutating func clear() {
    changed = []
    overflowed = false
  }
}
