/// How the reactor waits when there is nothing to do.
public enum PollMode: String, Sendable, CaseIterable {
  /// Spin while there is work and briefly after, then sleep in poll(2) with a
  /// growing timeout: an idle guest costs next to no CPU, and the first
  /// command after a quiet spell waits at most one sleep (see `IdlePolicy`).
  case adaptive
  /// Never sleep: lowest latency, one core always busy.
  case busy
}

/// Tuning of the adaptive idle policy.
public struct IdlePolicy: Sendable {
  /// Keep spinning this long after the last piece of work.
  public var spinNanoseconds: UInt64 = 200_000
  /// First and longest sleep once idle; each idle sleep doubles up to the cap.
  public var minSleepMicroseconds: Int = 50
  public var maxSleepMicroseconds: Int = 1_000
  /// After this long without work the guest is idle rather than between
  /// bursts: sleeps may then grow to `deepSleepMicroseconds`, which keeps an
  /// idle attached guest well under 1% of a core.
  public var deepIdleNanoseconds: UInt64 = 100_000_000
  public var deepSleepMicroseconds: Int = 4_000
  /// While busy, look at the socket every this many turns (a client's
  /// register writes and DMA maps are rare next to doorbells).
  public var socketCheckInterval: Int = 32
  /// While busy, look at the wakeup descriptors (signals, the control
  /// socket's mailbox) every this many socket checks: a reactor that always
  /// finds work never sleeps, and so would never see them otherwise.
  public var wakeupCheckInterval: Int = 64

  public init() {}
}
