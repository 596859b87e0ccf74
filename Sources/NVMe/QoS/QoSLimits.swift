/// An operator's rate limits for one namespace. nil or 0 means no limit.
public struct QoSLimits: Sendable, Hashable {
  public var iops: UInt64?
  public var bytesPerSecond: UInt64?

  public init(iops: UInt64? = nil, bytesPerSecond: UInt64? = nil) {
    self.iops = iops
    self.bytesPerSecond = bytesPerSecond
  }

  /// Whether neither limit is set.
  public var isUnlimited: Bool { (iops ?? 0) == 0 && (bytesPerSecond ?? 0) == 0 }
}

public enum QoSError: Error, Sendable, Hashable {
  case unknownNamespace(UInt32)
}

/// Per-namespace QoS state keyed by NSID; survives controller resets (the
/// limits are the operator's setting, not the host's).
struct QoSTable {
  struct Entry {
    var nsid: UInt32
    var limits: QoSLimits
    var ops: TokenBucket
    var bytes: TokenBucket
    var throttled: UInt64 = 0
  }
  var entries: [Entry] = []

  func index(of nsid: UInt32) -> Int? { entries.firstIndex { $0.nsid == nsid } }
}

extension NVMeController {
  /// Sets or (with zero/nil limits) removes a namespace's limits. Reactor thread.
  public func setQoS(nsid: UInt32, limits: QoSLimits) throws(QoSError) {
    guard namespaces.contains(where: { $0.id == nsid }) else {
      throw .unknownNamespace(nsid)
    }
    let index = qos.index(of: nsid)
    if limits.isUnlimited {
      if let index { qos.entries.remove(at: index) }
      return
    }
    let now = fineClock()
    let entry = QoSTable.Entry(
      nsid: nsid, limits: limits,
      ops: TokenBucket(rate: limits.iops ?? 0, now: now),
      bytes: TokenBucket(rate: limits.bytesPerSecond ?? 0, now: now),
      throttled: index.map { qos.entries[$0].throttled } ?? 0)
    if let index { qos.entries[index] = entry } else { qos.entries.append(entry) }
  }

  /// The namespace's limits, or nil when it has none (or does not exist).
  public func qosLimits(nsid: UInt32) -> QoSLimits? {
    qos.index(of: nsid).map { qos.entries[$0].limits }
  }

  /// Commands of the namespace that had to wait for its limits (since its
  /// limits were last removed).
  public func qosThrottledCommands(nsid: UInt32) -> UInt64 {
    qos.index(of: nsid).map { qos.entries[$0].throttled } ?? 0
  }
}
