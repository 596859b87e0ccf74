import BackendContract
import Glibc
import Logging
import POSIX

/// An NVMe controller: registers, queues, admin and NVM command sets.
///
/// One thread owns it (the reactor): register accesses, `poll()` and DMA
/// notifications all come from that thread, so there is no lock anywhere.
/// Everything the guest provides (register values, doorbells, SQEs, data
/// pointers, guest memory) is treated as hostile: bad input completes with the
/// spec's status, raises an asynchronous event, or sets CSTS.CFS, and the
/// controller keeps serving.
public final class NVMeController {
  public let settings: ControllerSettings
  public let capabilities: CapabilitiesRegister
  /// Active namespaces by NSID, ascending.
  public private(set) var namespaces: [Namespace]
  let doorbells: DoorbellPage
  /// Guest memory; nil until a client attaches its DMA space.
  public var memory: (any GuestMemory)?
  /// Raises interrupt vector `n` (MSI-X, or INTx for vector 0).
  public var interruptHandler: ((UInt16) -> Void)?
  /// Where the controller reports what a guest did wrong or what failed
  /// (warning), and what the host set up that an operator may want to know
  /// (info: shadow doorbells). Silent unless the owner sets one.
  public var logger = Logger(label: "nvme", factory: { _ in SwiftLogNoOpLogHandler() })
  /// Monotonic milliseconds, coarse (see `MonotonicClock.coarseMilliseconds`).
  let clock: () -> UInt64
  /// CLOCK_MONOTONIC nanoseconds, for interrupt coalescing's 100 us units;
  /// read only while some vector has entries waiting.
  let fineClock: () -> UInt64

  // Registers, counters and flags the hot path touches are
  // `@exclusivity(unchecked)`: plain values, only ever read or assigned whole,
  // never held in an access across a call that could re-enter the
  // controller, so a dynamic check on them guards nothing; there were tens
  // per I/O at about 100 instructions each (callgrind). Collections keep
  // their checks: a re-entrant call could reallocate one under an in-place
  // mutation, and the check turns that into a trap (the fuzzers found two).
  @exclusivity(unchecked) var cc = ControllerConfigurationRegister()
  @exclusivity(unchecked) var csts = ControllerStatusRegister()
  var aqa = AdminQueueAttributes()
  var asq: UInt64 = 0
  var acq: UInt64 = 0
  var interruptMask: UInt32 = 0

  // Queues by ID; index 0 is the admin pair.
  var submissionQueues: [SubmissionQueue?]
  var completionQueues: [CompletionQueue?]
  /// IDs of existing queues, for cheap iteration on the hot path.
  var activeSubmissionIDs: [Int] = []
  var activeCompletionIDs: [Int] = []

  var features: FeatureStore
  var events = AsyncEvents()
  var errorLog = ErrorLog(capacity: 64)
  @exclusivity(unchecked) var health = SmartHealthLog()
  /// Data moved by Read and Write commands, for SMART's data units.
  @exclusivity(unchecked) var bytesRead: UInt64 = 0
  @exclusivity(unchecked) var bytesWritten: UInt64 = 0
  /// Controller Busy Time: milliseconds with an I/O command outstanding,
  /// closed intervals only; `busySince` starts the open one.
  @exclusivity(unchecked) var busyMilliseconds: UInt64 = 0
  @exclusivity(unchecked) var busySince: UInt64?
  var changedNamespaces = ChangedNamespaceList()
  /// Doorbell Buffer Config as the host set it; nil until then and after a
  /// reset. Unchecked like a ring: resolving it is a table lookup that never
  /// re-enters the controller.
  @exclusivity(unchecked) var shadowDoorbells: ShadowDoorbells?
  /// Times `armDoorbellEvents` set EventIdx for a sleep, for statistics.
  public internal(set) var eventIndexArmings: UInt64 = 0
  /// Doorbell writes that came as register writes (trapped doorbells).
  @exclusivity(unchecked) public internal(set) var doorbellMessages: UInt64 = 0
  let inFlight = InFlightTable()
  /// An I/O queue was created since the last reset: Number of Queues is
  /// settled (Base 2.0, 5.27.1.5), even if the queues are gone again.
  var ioQueuesCreated = false
  let startTime: UInt64

  /// Vectors to raise at the end of this turn (each once).
  var pendingVectors: [UInt16] = []
  var vectorPending: [Bool]
  /// Interrupt coalescing (see NVMeController+Interrupts): whether any vector
  /// coalesces, feature 08h in entries and nanoseconds, each vector's state,
  /// the vectors with entries waiting and the earliest of their deadlines.
  @exclusivity(unchecked) var coalescing = false
  @exclusivity(unchecked) var coalescingThreshold = 1
  @exclusivity(unchecked) var coalescingTime: UInt64 = 0
  var aggregation: [VectorAggregation]
  var waitingVectors: [UInt16] = []
  @exclusivity(unchecked) var timerDeadline: UInt64?
  /// Backends with requests enqueued this turn.
  var backendsToSubmit: [Int] = []
  var backendDirty: [Bool]
  /// Set while a reset drains the backends: completions of aborted commands
  /// must not be written into queues the host is tearing down.
  @exclusivity(unchecked) var suppressCompletions = false
  /// True inside `poll()`; register writes arriving re-entrantly (through a
  /// DMA message exchange) wait until the turn ends.
  @exclusivity(unchecked) var polling = false
  /// CC.SHN was written; the next turn finishes the shutdown.
  @exclusivity(unchecked) var shutdownPending = false
  var deferredRegisterWrites: [(offset: UInt64, value: UInt32)] = []
  /// Bit-bucket reads land here; allocated on first use.
  var discardBufferStorage: UnsafeMutableRawBufferPointer?

  public init(
    settings: ControllerSettings, namespaces: [Namespace],
    doorbells: UnsafeMutableRawPointer, doorbellBytes: Int,
    clock: @escaping () -> UInt64 = MonotonicClock.coarseMilliseconds,
    fineClock: @escaping () -> UInt64 = MonotonicClock.nanoseconds
  ) {
    self.settings = settings
    self.capabilities = CapabilitiesRegister(maxQueueEntries: settings.maxQueueEntries)
    self.namespaces = namespaces.sorted { $0.id < $1.id }
    self.doorbells = DoorbellPage(base: doorbells, byteCount: doorbellBytes)
    self.clock = clock
    self.fineClock = fineClock
    let pairs = max(2, min(settings.ioQueues &+ 1, self.doorbells.queuePairs))
    submissionQueues = Array(repeating: nil, count: pairs)
    completionQueues = Array(repeating: nil, count: pairs)
    features = FeatureStore(
      limits: FeatureStore.Limits(
        maximumIOQueues: UInt16(clamping: pairs - 1),
        interruptVectors: settings.interruptVectors),
      now: clock())
    vectorPending = Array(repeating: false, count: max(1, settings.interruptVectors))
    aggregation = Array(repeating: VectorAggregation(), count: vectorPending.count)
    backendDirty = Array(repeating: false, count: namespaces.count)
    startTime = clock()
    self.doorbells.clearAll()
  }

  deinit {
    discardBufferStorage?.deallocate()
  }

  var discardBuffer: UnsafeMutableRawBufferPointer {
    if let buffer = discardBufferStorage { return buffer }
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: settings.maxTransferBytes, alignment: 4096)
    discardBufferStorage = buffer
    return buffer
  }

  /// Highest I/O queue ID the controller can create.
  var maxQueueID: Int { submissionQueues.count - 1 }

  public var isReady: Bool { csts.ready && !csts.fatal }
  public var isFatal: Bool { csts.fatal }
  /// Commands handed to a backend and not yet completed.
  public var commandsInFlight: Int { inFlight.active }

  /// Position of NSID `nsid` in `namespaces`. Few namespaces: a linear scan
  /// beats hashing here.
  func namespaceIndex(_ nsid: UInt32) -> Int? {
    namespaces.firstIndex { $0.id == nsid }
  }

  func namespace(_ nsid: UInt32) -> Namespace? {
    namespaceIndex(nsid).map { namespaces[$0] }
  }

  /// Stops the controller until the host resets it: CSTS.CFS.
  ///
  /// Only while CC.EN is set (enabled, or being enabled). A guest access that
  /// is a DMA message exchange lets the client in meanwhile; when it resets
  /// the controller and the access then fails, the failure belongs to the
  /// queues it just dropped. Setting CFS then would stick: with CC.EN already
  /// clear no CC write could clear it again (found by the nvme-commands fuzz
  /// target).
  func fail(_ reason: String) {
    guard cc.enabled else { return }
    if !csts.fatal { logger.warning("controller fatal status: \(reason)") }
    csts.fatal = true
  }
}
