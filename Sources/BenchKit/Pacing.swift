import Glibc
import POSIX

/// fio's sparse loads for the closed loop: `thinktime` (after every
/// `thinktime_blocks` I/Os, let everything in flight complete, then sleep)
/// and `rate_iops` (at most that many I/Os a second in total). Both sleep
/// rather than spin: the point is to let the server go idle. Value type;
/// the runner asks it how many I/Os may go out now.
struct Pacer {
  let thinkNanoseconds: UInt64
  let thinkBlocks: Int
  /// 1 s / rate_iops; 0 for no cap.
  let intervalNanoseconds: UInt64
  private(set) var issuedSinceThink = 0
  /// When the rate lets the next I/O go.
  private(set) var nextDue: UInt64 = 0

  init(thinktimeMicroseconds: UInt64, thinktimeBlocks: Int, rateIOPS: UInt64) {
    thinkNanoseconds = thinktimeMicroseconds &* 1000
    thinkBlocks = max(1, thinktimeBlocks)
    intervalNanoseconds = rateIOPS == 0 ? 0 : max(1, 1_000_000_000 / rateIOPS)
  }

  /// Whether the loop must go through the pacer at all (else it resubmits
  /// every completion at once, as before).
  var isActive: Bool { thinkNanoseconds > 0 || intervalNanoseconds > 0 }

  /// `thinktime_blocks` went out since the last stall: issue nothing until
  /// everything in flight completed and the stall is over.
  var mustThink: Bool { thinkNanoseconds > 0 && issuedSinceThink >= thinkBlocks }

  /// The stall is over.
  mutating func thought() { issuedSinceThink = 0 }

  /// Starts the rate's schedule at `now`.
  mutating func start(at now: UInt64) { nextDue = now }

  /// How many of `wanted` I/Os may go out at `now`; counts them as issued.
  mutating func take(now: UInt64, wanted: Int) -> Int {
    var count = wanted
    if thinkNanoseconds > 0 { count = min(count, thinkBlocks &- issuedSinceThink) }
    if intervalNanoseconds > 0 {
      guard now >= nextDue else { return 0 }
      // A schedule more than one interval behind (the loop was waiting for
      // completions, or stalled) restarts: lost time is not made up in a
      // burst that would exceed the cap.
      let due = max(nextDue, now &- min(now, intervalNanoseconds))
      let ready = (now &- due) / intervalNanoseconds &+ 1
      count = min(count, Int(clamping: ready))
      if count > 0 { nextDue = due &+ UInt64(count) &* intervalNanoseconds }
    }
    count = max(0, count)
    issuedSinceThink &+= count
    return count
  }
}

/// Sleeps on the monotonic clock until `deadline` (nanoseconds), through signals.
func sleep(untilNanoseconds deadline: UInt64) {
  MonotonicClock.sleep(untilNanoseconds: deadline)
}
