/// What lives from one controller enable to the next reset: the queues, the
/// features and asynchronous events the host set up, shadow doorbells and
/// interrupt state. A reset replaces the whole session, so nothing set up
/// before it can leak past it, and there is no field to forget clearing.
///
/// A class the controller holds in one unchecked `var` it only ever reads or
/// assigns whole, so the hot path's accesses cost what they did as the
/// controller's own properties: the collections keep their exclusivity checks
/// (a re-entrant call could reallocate one under an in-place mutation; the
/// fuzzers found two), the plain values the hot path touches are unchecked.
/// A reset that comes re-entrantly, through a client message during a DMA
/// exchange, swaps in a new session while the turn still runs: the turn then
/// finds its queue gone (`stillServes`) and stops.
final class ControllerSession {
  // Queues by ID; index 0 is the admin pair.
  var submissionQueues: [SubmissionQueue?]
  var completionQueues: [CompletionQueue?]
  /// IDs of existing queues, for cheap iteration on the hot path.
  var activeSubmissionIDs: [Int] = []
  var activeCompletionIDs: [Int] = []

  var features: FeatureStore
  var events = AsyncEvents()
  /// Doorbell Buffer Config as the host set it; nil until then. Unchecked
  /// like a ring: resolving it is a table lookup that never re-enters the
  /// controller.
  @exclusivity(unchecked) var shadowDoorbells: ShadowDoorbells?
  /// An I/O queue was created: Number of Queues is settled (Base 2.0,
  /// 5.27.1.5), even if the queues are gone again.
  var ioQueuesCreated = false

  /// Vectors to raise at the end of this turn (each once).
  var pendingVectors: [UInt16] = []
  var vectorPending: [Bool]
  /// Interrupt coalescing (see NVMeController+Interrupts): whether any vector
  /// coalesces, feature 08h in entries and nanoseconds, each vector's state,
  /// the vectors with entries waiting and the earliest of their deadlines.
  /// A new session has the features' defaults: no coalescing.
  @exclusivity(unchecked) var coalescing = false
  @exclusivity(unchecked) var coalescingThreshold = 1
  @exclusivity(unchecked) var coalescingTime: UInt64 = 0
  var aggregation: [VectorAggregation]
  var waitingVectors: [UInt16] = []
  @exclusivity(unchecked) var timerDeadline: UInt64?
  /// Earliest time a command held for QoS may go (fine clock), this turn's.
  @exclusivity(unchecked) var qosWakeAt: UInt64?
  /// The submission queue that last got a command past QoS limits; the next
  /// turn serves the queue after it first, so queues share tokens in turn.
  @exclusivity(unchecked) var qosLastServed: Int?

  /// `queuePairs`: admin pair included; `vectors`: interrupt vectors.
  init(queuePairs: Int, vectors: Int, features: FeatureStore) {
    submissionQueues = Array(repeating: nil, count: queuePairs)
    completionQueues = Array(repeating: nil, count: queuePairs)
    vectorPending = Array(repeating: false, count: vectors)
    aggregation = Array(repeating: VectorAggregation(), count: vectors)
    self.features = features
  }
}
