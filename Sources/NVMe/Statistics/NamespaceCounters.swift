/// What a namespace served, for `get_stats` and the metrics file. Written by
/// the reactor only, read through `snapshot` on the reactor (the control
/// socket asks for it through the reactor's mailbox). A class so that an
/// in-flight command can point at it without a lookup; its storage is
/// unchecked because every method is a leaf.
public final class NamespaceCounters {
  @exclusivity(unchecked) var reads: UInt64 = 0
  @exclusivity(unchecked) var writes: UInt64 = 0
  @exclusivity(unchecked) var bytesRead: UInt64 = 0
  @exclusivity(unchecked) var bytesWritten: UInt64 = 0
  @exclusivity(unchecked) var errors: UInt64 = 0
  /// Sampled: one command in `NVMeController.latencySampleInterval`.
  @exclusivity(unchecked) var readLatency = LatencyHistogram()
  @exclusivity(unchecked) var writeLatency = LatencyHistogram()

  public init() {}

  /// A successful Read (`write` false) or Write of `bytes`.
  func count(write: Bool, bytes: UInt64) {
    if write {
      writes &+= 1
      bytesWritten &+= bytes
    } else {
      reads &+= 1
      bytesRead &+= bytes
    }
  }

  /// A sampled command's fetch-to-completion time.
  func recordLatency(write: Bool, nanoseconds: UInt64) {
    if write { writeLatency.record(nanoseconds) } else { readLatency.record(nanoseconds) }
  }

  public var snapshot: NamespaceCountersSnapshot {
    NamespaceCountersSnapshot(
      reads: reads, writes: writes, bytesRead: bytesRead, bytesWritten: bytesWritten,
      errors: errors, readLatency: readLatency, writeLatency: writeLatency)
  }
}

public struct NamespaceCountersSnapshot: Sendable, Hashable {
  /// Successful Read commands; Write commands.
  public var reads: UInt64
  public var writes: UInt64
  public var bytesRead: UInt64
  public var bytesWritten: UInt64
  /// Commands for this namespace that completed with an error status.
  public var errors: UInt64
  /// Fetch-to-completion time of sampled commands, nanoseconds.
  public var readLatency: LatencyHistogram
  public var writeLatency: LatencyHistogram
}
