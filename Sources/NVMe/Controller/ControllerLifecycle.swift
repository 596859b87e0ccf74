/// CSTS.SHST: where a shutdown (CC.SHN) stands.
enum ShutdownStatus: UInt8, Sendable {
  case normal = 0
  case inProgress = 1
  case complete = 2
}

/// The controller's lifecycle, as CC writes, turns, failures and resets drive
/// it: what CSTS's RDY, CFS and SHST read, whether the queues are served, and
/// whether completions are posted. A plain value with no side effects: each
/// transition changes the state and tells the controller what to do, so every
/// path through it can be tested without a controller (ControllerLifecycleTests).
enum ControllerLifecycle: Equatable, Sendable {
  /// CC.EN = 0: no queues. SHST keeps what the last shutdown left (only the
  /// next enable clears it), so a host that disabled after a shutdown still
  /// reads it complete.
  case disabled(shutdown: ShutdownStatus)
  /// A reset is draining the backends: the commands it aborts complete
  /// nowhere (the host is tearing their queues down) and touch no guest memory.
  case resetting
  /// CC.EN = 1 and CSTS.RDY = 1: the queues are served.
  case ready
  /// CC.SHN was written: SHST reads 01b and the next turn finishes the
  /// shutdown. Not at once: a CC write is a client request the client waits
  /// on (QEMU holding its big lock), and finishing I/O may need DMA messages
  /// it could not serve meanwhile. Queues are still served.
  case shuttingDown
  /// SHST = 10b: I/O finished and flushed. RDY stays set until CC.EN clears.
  case shutDown
  /// CSTS.CFS = 1 until the host clears CC.EN. `ready`: RDY as it was when
  /// the controller failed (an enable that fails never sets it). A shutdown
  /// still runs: finishing and flushing acknowledged writes is worth it.
  case fatal(ready: Bool, shutdown: ShutdownStatus)

  static let initial = ControllerLifecycle.disabled(shutdown: .normal)

  /// What a CC write asks the controller to do, in order.
  enum ConfigurationChange: Equatable, Sendable {
    case none
    /// CC.EN 1 -> 0: a controller reset.
    case disable
    /// CC.EN 0 -> 1: validate, create the admin queues, then `enabled()` or
    /// `enableFailed()`.
    case enable
    /// CC.SHN 00b -> non-zero while CC.EN = 1: `requestShutdown()`.
    case shutDown
    /// Both of the above in one write: enable first.
    case enableAndShutDown
  }

  /// Decodes a CC write. A write that clears EN is a reset whatever else it
  /// sets; SHN counts only when it goes from 00b to non-zero with EN set.
  static func change(
    from old: ControllerConfigurationRegister, to new: ControllerConfigurationRegister
  ) -> ConfigurationChange {
    if old.enabled && !new.enabled { return .disable }
    let shutdown = new.enabled && new.shutdown != 0 && old.shutdown == 0
    if !old.enabled && new.enabled { return shutdown ? .enableAndShutDown : .enable }
    return shutdown ? .shutDown : .none
  }

  /// Whether the controller fetches commands and answers doorbells.
  var serves: Bool {
    switch self {
    case .ready, .shuttingDown, .shutDown: return true
    case .disabled, .resetting, .fatal: return false
    }
  }

  /// Whether completions reach the guest (not while a reset drains).
  var postsCompletions: Bool { self != .resetting }

  var isFatal: Bool {
    if case .fatal = self { return true }
    return false
  }

  /// CSTS as the host reads it.
  var status: ControllerStatusRegister {
    var csts = ControllerStatusRegister()
    switch self {
    case .disabled(let shutdown):
      csts.shutdownStatus = shutdown.rawValue
    case .resetting:
      break
    case .ready:
      csts.ready = true
    case .shuttingDown:
      csts.ready = true
      csts.shutdownStatus = ShutdownStatus.inProgress.rawValue
    case .shutDown:
      csts.ready = true
      csts.shutdownStatus = ShutdownStatus.complete.rawValue
    case .fatal(let ready, let shutdown):
      csts.ready = ready
      csts.fatal = true
      csts.shutdownStatus = shutdown.rawValue
    }
    return csts
  }

  /// The enable checked out and the admin queues exist: RDY, SHST cleared.
  mutating func enabled() {
    guard case .disabled = self else { return }
    self = .ready
  }

  /// The enable found the configuration or the admin queues unusable: CFS
  /// without RDY, until the host clears CC.EN.
  mutating func enableFailed() {
    guard case .disabled = self else { return }
    self = .fatal(ready: false, shutdown: .normal)
  }

  /// Something the guest controls failed the controller. Returns whether
  /// this newly set CFS (to report it once). Ignored while disabled or
  /// resetting: a guest access that is a DMA message exchange lets the client
  /// in meanwhile, and when it resets the controller and the access then
  /// fails, the failure belongs to the queues it just dropped. CFS set then
  /// would stick, with no CC.EN 1 -> 0 left to clear it (found by the
  /// nvme-commands fuzz target).
  mutating func fail() -> Bool {
    switch self {
    case .disabled, .resetting, .fatal: return false
    case .ready: self = .fatal(ready: true, shutdown: .normal)
    case .shuttingDown: self = .fatal(ready: true, shutdown: .inProgress)
    case .shutDown: self = .fatal(ready: true, shutdown: .complete)
    }
    return true
  }

  /// CC.SHN went non-zero with CC.EN set.
  mutating func requestShutdown() {
    switch self {
    case .ready, .shutDown: self = .shuttingDown
    case .fatal(let ready, _): self = .fatal(ready: ready, shutdown: .inProgress)
    case .shuttingDown, .disabled, .resetting: break
    }
  }

  /// Whether a requested shutdown is still to be finished (the turn does it).
  var shutdownDue: Bool {
    switch self {
    case .shuttingDown, .fatal(_, .inProgress): return true
    default: return false
    }
  }

  /// Backends drained and flushed: SHST complete. A reset that came in
  /// meanwhile (a client message during a completion's DMA exchange) wins.
  mutating func shutdownFinished() {
    switch self {
    case .shuttingDown: self = .shutDown
    case .fatal(let ready, .inProgress): self = .fatal(ready: ready, shutdown: .complete)
    default: break
    }
  }

  /// A controller reset starts draining; completions stop. Returns the SHST
  /// the disabled controller will read: complete if a shutdown finished, and
  /// normal otherwise (a reset ends a shutdown still in progress).
  mutating func resetBegins() -> ShutdownStatus {
    let kept: ShutdownStatus
    switch self {
    case .shutDown, .disabled(.complete), .fatal(_, .complete): kept = .complete
    default: kept = .normal
    }
    self = .resetting
    return kept
  }

  /// The reset is done: CC.EN = 0 with `shutdown` as SHST.
  mutating func resetEnds(shutdown: ShutdownStatus) {
    self = .disabled(shutdown: shutdown)
  }
}
