// Queue indices, counters and rings are `@exclusivity(unchecked)` for the
// reason `NVMeController` gives: plain values read or assigned whole. The
// backlog, an array, keeps its check.

/// A submission queue as the controller tracks it.
final class SubmissionQueue {
  let id: UInt16
  let completionQueueID: UInt16
  @exclusivity(unchecked) var ring: QueueRing
  /// Next entry the controller will fetch.
  @exclusivity(unchecked) var head = 0
  /// Last valid tail the host rang.
  @exclusivity(unchecked) var tail = 0
  /// Commands fetched and not yet completed.
  @exclusivity(unchecked) var outstanding = 0
  /// The tail comes from the host's shadow doorbell buffer, not the page.
  @exclusivity(unchecked) var shadowed = false
  @exclusivity(unchecked) var statistics = QueueStatistics()
  /// The entry at `head`, fetched once and waiting for its namespace's QoS
  /// limits; it goes with the queue (and so with the session) on a reset.
  @exclusivity(unchecked) var held: SubmissionQueueEntry?

  init(id: UInt16, completionQueueID: UInt16, ring: QueueRing) {
    self.id = id
    self.completionQueueID = completionQueueID
    self.ring = ring
  }

  var size: Int { ring.entries }
  var isEmpty: Bool { head == tail }

  /// Entry `index`, read from a copy of the ring (see `QueueRing`).
  func fetch(_ index: Int, memory: any GuestMemory) -> SubmissionQueueEntry? {
    ring.resolve(memory)
    let ring = self.ring
    return ring.readSubmission(index, memory: memory)
  }
}

/// A completion queue: where the controller posts and the host consumes.
final class CompletionQueue {
  let id: UInt16
  let vector: UInt16
  let interruptsEnabled: Bool
  @exclusivity(unchecked) var ring: QueueRing
  /// Next slot the controller writes.
  @exclusivity(unchecked) var tail = 0
  /// Last valid head the host rang.
  @exclusivity(unchecked) var head = 0
  @exclusivity(unchecked) var phase = true
  /// Completions that did not fit (the host has not consumed enough yet),
  /// posted in order as soon as the head moves. Bounded: each one holds an SQ
  /// slot the host cannot reuse until it sees the completion.
  var backlog: [CompletionQueueEntry] = []
  /// Submission queues feeding this one.
  @exclusivity(unchecked) var submissionQueueCount = 0
  /// The head comes from the host's shadow doorbell buffer, not the page.
  @exclusivity(unchecked) var shadowed = false

  init(id: UInt16, vector: UInt16, interruptsEnabled: Bool, ring: QueueRing) {
    self.id = id
    self.vector = vector
    self.interruptsEnabled = interruptsEnabled
    self.ring = ring
  }

  var size: Int { ring.entries }
  var isFull: Bool { (tail &+ 1) % size == head }

  /// Writes `entry` at `index` through a copy of the ring (see `QueueRing`).
  func store(_ entry: CompletionQueueEntry, at index: Int, memory: any GuestMemory) -> Bool {
    ring.resolve(memory)
    let ring = self.ring
    return ring.writeCompletion(entry, at: index, memory: memory)
  }
  /// Entries posted and not yet consumed by the host.
  var occupied: Int { (tail &- head &+ size) % size }

  /// The Phase Tag of the next completion for this queue, which goes after
  /// the backlog: entries are posted in order, and the phase flips each time
  /// the tail wraps.
  var phaseOfNextPost: Bool {
    let wraps = (tail &+ backlog.count) / size
    return wraps % 2 == 0 ? phase : !phase
  }
}

/// Per-queue counters for the server's statistics.
public struct QueueStatistics: Sendable, Hashable {
  public var commands: UInt64 = 0
  /// Successful Read and Write commands, and their bytes.
  public var reads: UInt64 = 0
  public var writes: UInt64 = 0
  public var bytesRead: UInt64 = 0
  public var bytesWritten: UInt64 = 0
  public var errors: UInt64 = 0
  public init() {}

  public var bytes: UInt64 { bytesRead &+ bytesWritten }

  /// A successful Read (`write` false) or Write of `bytes`.
  mutating func count(write: Bool, bytes: UInt64) {
    if write {
      writes &+= 1
      bytesWritten &+= bytes
    } else {
      reads &+= 1
      bytesRead &+= bytes
    }
  }
}
