/// What the reactor did with its time, for the statistics report.
public struct ReactorStatistics: Sendable {
  public var turns: UInt64 = 0
  public var busyNanoseconds: UInt64 = 0
  public var idleNanoseconds: UInt64 = 0
  public var sleeps: UInt64 = 0
  /// Sleeps with no timeout (trapped doorbells: a message wakes the reactor).
  public var untimedSleeps: UInt64 = 0
  public init() {}
}
