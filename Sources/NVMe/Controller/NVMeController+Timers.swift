extension NVMeController {
  /// When the controller next needs a turn even if nothing else happens
  /// (CLOCK_MONOTONIC nanoseconds), or nil for never. The reactor ends its
  /// sleep by then; `poll()` does whatever came due. It may already have
  /// passed (0: a turn at once): then the reactor should not sleep at all.
  ///
  /// Today only interrupt coalescing sets it: the earliest time a vector's
  /// waiting completion entries must be signalled.
  public var nextTimerDeadline: UInt64? { session.timerDeadline }
}
