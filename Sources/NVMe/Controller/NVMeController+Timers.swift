extension NVMeController {
  /// When the controller next needs a turn even if nothing else happens
  /// (CLOCK_MONOTONIC nanoseconds), or nil for never. The reactor ends its
  /// sleep by then; `poll()` does whatever came due. It may already have
  /// passed (0: a turn at once): then the reactor should not sleep at all.
  ///
  /// Interrupt coalescing sets it (the earliest time a vector's waiting
  /// completion entries must be signalled), and so does QoS: the earliest
  /// time a command held for its namespace's limits has the tokens to go.
  public var nextTimerDeadline: UInt64? {
    let session = self.session
    guard lifecycle.serves, memory != nil, let wake = session.qosWakeAt else {
      return session.timerDeadline
    }
    return min(wake, session.timerDeadline ?? wake)
  }

  /// Whether the last turn held a command for its namespace's QoS limits.
  /// The reactor then sleeps at once (until `nextTimerDeadline`) instead of
  /// spinning: what it waits for is a clock, not a doorbell.
  public var waitsForQoSTokens: Bool {
    lifecycle.serves && session.qosWakeAt != nil
  }
}
