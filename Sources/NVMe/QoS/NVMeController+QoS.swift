// QoS enforcement on the reactor thread. A command whose namespace is over
// its limits is held at the head of its submission queue (fetched once, the
// copy kept in `SubmissionQueue.held`) and the queue waits behind it, as
// submission queues are in order: commands of unthrottled namespaces on the
// same queue wait too. The reactor sleeps until `nextTimerDeadline`, which
// includes the earliest time a held command has its tokens.
//
// What counts: Read, Write, Compare and Verify are one operation and their
// byte length; Write Zeroes, Dataset Management and Copy are one operation
// and no bytes; Flush, admin commands and unknown opcodes are not limited.
extension NVMeController {
  /// The cost of `sqe` in operations and bytes, or nil if it is not limited.
  private func qosCost(_ sqe: SubmissionQueueEntry) -> (ops: UInt64, bytes: UInt64)? {
    guard let opcode = NVMOpcode(rawValue: sqe.opcode) else { return nil }
    switch opcode {
    case .read, .write, .compare, .verify:
      guard let index = namespaceIndex(sqe.namespaceIdentifier) else { return nil }
      // At most 2^16 blocks of at most 2^31 bytes: no overflow.
      let blocks = UInt64(sqe.cdw12 & 0xFFFF) &+ 1
      let shift = UInt64(min(namespaces[index].blockShift, 31))
      return (1, blocks << shift)
    case .writeZeroes, .datasetManagement, .copy: return (1, 0)
    default: return nil
    }
  }

  /// Whether `sqe` may go now; if not it is held in `sq` and the session's
  /// wake-up time covers the moment it may.
  func admitQoS(
    _ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue, session: ControllerSession
  ) -> Bool {
    guard let index = qos.index(of: sqe.namespaceIdentifier), let cost = qosCost(sqe) else {
      return true
    }
    let now = fineClock()
    var entry = qos.entries[index]
    entry.ops.refill(now: now)
    entry.bytes.refill(now: now)
    let admitted = entry.ops.admits(cost.ops) && entry.bytes.admits(cost.bytes)
    if admitted {
      session.qosLastServed = Int(sq.id)
      _ = entry.ops.take(cost.ops, now: now)
      _ = entry.bytes.take(cost.bytes, now: now)
    } else {
      if sq.held == nil { entry.throttled &+= 1 }
      sq.held = sqe
      let wait = max(
        entry.ops.nanosecondsUntil(cost.ops, now: now),
        entry.bytes.nanosecondsUntil(cost.bytes, now: now))
      let (wake, overflow) = now.addingReportingOverflow(max(wait, 1))
      let at = overflow ? UInt64.max : wake
      session.qosWakeAt = min(at, session.qosWakeAt ?? at)
    }
    qos.entries[index] = entry
    return admitted
  }
}
