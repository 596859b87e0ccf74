extension NVMeController {
  /// When the controller next needs a turn even if nothing else happens
  /// (CLOCK_MONOTONIC nanoseconds), or nil for never. The reactor ends its
  /// sleep by then; `poll()` does whatever came due.
  public var nextTimerDeadline: UInt64? { nil }
}
