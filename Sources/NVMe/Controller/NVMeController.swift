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
  public internal(set) var namespaces: [Namespace]
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
  /// Enabled, ready, shutting down, failed...: CSTS is read off it.
  @exclusivity(unchecked) var lifecycle = ControllerLifecycle.initial
  var aqa = AdminQueueAttributes()
  var asq: UInt64 = 0
  var acq: UInt64 = 0
  var interruptMask: UInt32 = 0

  /// Queues, features, events, shadow doorbells and interrupt state, from
  /// one reset to the next (see ControllerSession).
  @exclusivity(unchecked) var session: ControllerSession
  /// Queue pairs a session has room for, admin pair included.
  let queuePairs: Int

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
  var qos = QoSTable() { didSet { qosLimited = !qos.entries.isEmpty } }
  /// Whether any namespace has limits: what every command checks, so a Bool
  /// read whole, without the dynamic exclusivity check `qos` would cost.
  @exclusivity(unchecked) private(set) var qosLimited = false
  /// Times `armDoorbellEvents` set EventIdx for a sleep, for statistics.
  public internal(set) var eventIndexArmings: UInt64 = 0
  /// Doorbell writes that came as register writes (trapped doorbells).
  @exclusivity(unchecked) public internal(set) var doorbellMessages: UInt64 = 0
  let inFlight = InFlightTable()
  /// Read and Write latency is timed for one command in this many (two clock
  /// reads per timed command; the reactor avoids the clock on busy turns).
  static let latencySampleInterval = 8
  @exclusivity(unchecked) var latencySampleCountdown = 1
  let startTime: UInt64

  /// Backends with requests enqueued this turn.
  var backendsToSubmit: [Int] = []
  var backendDirty: [Bool]
  /// Nil outside `poll()`. Inside it, CC writes that arrive re-entrantly
  /// (through a DMA message exchange) wait here until the turn ends (see the
  /// rule atop NVMeController+Poll).
  var deferredConfigurationWrites: [UInt32]?
  /// Bit-bucket reads land here; allocated on first use.
  var discardBufferStorage: UnsafeMutableRawBufferPointer?
  /// Device self-test: the run in progress, its log, and its one read.
  var selfTest: SelfTestRun?
  var selfTestLog = DeviceSelfTestLog()
  var selfTestReadInFlight = false
  var selfTestBufferStorage: UnsafeMutableRawBufferPointer?
  let selfTestVector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)

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
    queuePairs = pairs
    let limits = FeatureStore.Limits(
      maximumIOQueues: UInt16(clamping: pairs - 1), interruptVectors: settings.interruptVectors)
    session = ControllerSession(
      queuePairs: pairs, vectors: max(1, settings.interruptVectors),
      features: FeatureStore(limits: limits, now: clock()))
    backendDirty = Array(repeating: false, count: namespaces.count)
    startTime = clock()
    self.doorbells.clearAll()
  }

  deinit {
    discardBufferStorage?.deallocate()
    selfTestBufferStorage?.deallocate()
    selfTestVector.deallocate()
  }

  var selfTestBuffer: UnsafeMutableRawBufferPointer {
    if let buffer = selfTestBufferStorage { return buffer }
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: SelfTestRun.chunkBytes, alignment: 4096)
    selfTestBufferStorage = buffer
    return buffer
  }

  var discardBuffer: UnsafeMutableRawBufferPointer {
    if let buffer = discardBufferStorage { return buffer }
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: settings.maxTransferBytes, alignment: 4096)
    discardBufferStorage = buffer
    return buffer
  }

  /// Highest I/O queue ID the controller can create.
  var maxQueueID: Int { queuePairs - 1 }

  /// A session for after a reset: no queues, default features.
  func newSession() -> ControllerSession {
    ControllerSession(
      queuePairs: queuePairs, vectors: session.vectorPending.count,
      features: FeatureStore(limits: session.features.limits, now: clock()))
  }

  /// CSTS as the host reads it.
  var csts: ControllerStatusRegister { lifecycle.status }
  public var isReady: Bool { lifecycle.serves }
  public var isFatal: Bool { lifecycle.isFatal }
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

  /// Stops the controller until the host resets it: CSTS.CFS. Only while
  /// CC.EN is set; see `ControllerLifecycle.fail()` for why.
  func fail(_ reason: String) {
    if lifecycle.fail() { logger.warning("controller fatal status: \(reason)") }
  }
}
