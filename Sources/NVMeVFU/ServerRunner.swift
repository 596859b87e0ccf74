import BackendContract
import BlockIO
import Control
import FoundationEssentials
import Glibc
import Logging
import NVMe
import POSIX
import Sandbox
import VFIOUser

/// Why the server could not start, as one line for the user.
public struct ServerStartError: Error, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Wires backends, controller, vfio-user server and reactor together and
/// runs them until SIGTERM or SIGINT. SIGUSR1 prints statistics. The control
/// socket and the metrics file run on a thread of their own and reach the
/// controller only through `mailbox`.
public final class ServerRunner {
  public let configuration: ServerConfiguration
  public let device: NVMeDevice
  public let server: VFIOUserServer
  public let reactor: Reactor
  public let mailbox: ReactorMailbox
  let levelSwitch: LogLevelSwitch
  /// Who may connect to the vfio-user and control sockets.
  let peerPolicy: PeerPolicy
  /// The namespaces as they are now, by NSID (reactor thread): what
  /// `get_config` reports after namespaces come and go.
  var namespaceConfigurations: [UInt32: NamespaceConfiguration] = [:]
  private var control: ControlServer?
  private let imageDirectories: ImageDirectories
  private let signals: SignalFD
  let logger: Logger
  private let startTime = MonotonicClock.nanoseconds()
  /// Where READY=1 and STOPPING=1 go under systemd (Type=notify).
  public let notify = SystemdNotify(environment: ProcessInfo.processInfo.environment)

  /// Opens everything; throws a one-line error for anything the user must fix.
  public init(
    configuration: ServerConfiguration, logger: Logger, levelSwitch: LogLevelSwitch? = nil
  ) throws {
    try configuration.validate()
    try SharedImages.refuse(configuration.namespaces)
    imageDirectories = try ImageDirectories(resolving: configuration.imageDirectories)
    let runAs = try configuration.user.map { spec throws(ServerStartError) in
      try RunAsUser(parsing: spec)
    }
    if let runAs, getuid() != 0, getuid() != runAs.uid {
      throw ServerStartError("--user \(runAs.name): only root can become another user")
    }
    peerPolicy = PeerPolicy(
      allowedUIDs: Set(configuration.allowedUIDs ?? [runAs?.uid ?? getuid(), 0]))
    self.configuration = configuration
    self.logger = logger
    self.levelSwitch = levelSwitch ?? LogLevelSwitch(logger.logLevel)
    // Before any thread exists (backends may start helpers): they inherit
    // the mask, so these signals only ever arrive through the signalfd.
    signals = try SignalFD(signals: [SIGTERM, SIGINT, SIGUSR1, SIGHUP])
    signal(SIGPIPE, SIG_IGN)
    mailbox = try ReactorMailbox()
    var namespaces: [Namespace] = []
    var nextID: UInt32 = 1
    for var entry in configuration.namespaces {
      let nsid = entry.nsid ?? nextID
      nextID = nsid &+ 1
      entry.nsid = nsid
      do {
        namespaces.append(
          try Self.openNamespace(
            entry, serial: configuration.serialNumber, rbdTimeout: configuration.rbdTimeout,
            logger: logger))
      } catch {
        for ns in namespaces { ns.backend.close() }
        throw error
      }
      namespaceConfigurations[nsid] = entry
    }
    do {
      device = try NVMeDevice(
        settings: configuration.controllerSettings, namespaces: namespaces,
        doorbells: configuration.doorbellMode)
    } catch {
      for ns in namespaces { ns.backend.close() }
      throw error
    }
    var options = ServerOptions()
    options.peerPolicy = peerPolicy
    server = VFIOUserServer(device: device, options: options)
    server.logger = logger
    device.logger = logger
    reactor = Reactor(server: server, device: device, mode: configuration.pollMode)
    for entry in namespaceConfigurations.values {
      guard let nsid = entry.nsid, let limits = entry.qosLimits else { continue }
      try? device.controller.setQoS(nsid: nsid, limits: limits)
    }
    guard let endpoint = configuration.endpoint else { throw ServerStartError("no socket") }
    // The control socket is bound before the vfio-user one: whoever sees the
    // vfio-user socket appear can connect to both at once.
    if configuration.controlPath != nil || configuration.metricsPath != nil {
      do {
        control = try makeControlServer()
      } catch {
        abandonStart()
        let path = configuration.controlPath ?? "control socket"
        throw ServerStartError("\(path): \(SocketPathError.reason(error, path: path))")
      }
    }
    do {
      switch endpoint {
      case .path(let path): try server.listen(path: path, permissions: configuration.socketMode)
      case .descriptor(let fd): try server.adopt(FileDescriptor(owning: fd))
      }
    } catch {
      abandonStart()
      switch endpoint {
      case .path(let path):
        throw ServerStartError("\(path): \(SocketPathError.reason(error, path: path))")
      case .descriptor(let fd):
        throw ServerStartError("--fd \(fd): \(error)")
      }
    }
    do {
      try dropPrivileges(to: runAs)
      try confine()
    } catch {
      abandonStart()
      throw error
    }
    reactor.addWakeup(fd: signals.fd) { [unowned self] in self.handleSignals() }
    reactor.addWakeup(fd: mailbox.wakeup) { [unowned self] in
      self.mailbox.runJobs(self)
      return true
    }
  }

  /// Undoes a start that failed after the device existed: what is open is closed,
  /// a socket already bound is removed.
  private func abandonStart() {
    for ns in device.controller.namespaces { ns.backend.close() }
    control?.stop()
    server.closeListener()
  }

  /// Opens one namespace's backend; the caller owns (and closes) it.
  static func openNamespace(
    _ entry: NamespaceConfiguration, serial: String, rbdTimeout: Int, logger: Logger
  ) throws(ServerStartError) -> Namespace {
    let opened: OpenedBackend
    do {
      opened = try entry.openBackend(rbdTimeout: rbdTimeout)
    } catch {
      throw ServerStartError(error.description)
    }
    for warning in opened.warnings { logger.warning("\(warning)") }
    return try entry.namespace(id: entry.nsid ?? 1, backend: opened.backend, serial: serial)
  }

  /// Everything that needs root is open: become `runAs`, the sockets made its own so
  /// a restart as that user can replace them. Root without `--user` is only a warning.
  private func dropPrivileges(to runAs: RunAsUser?) throws(ServerStartError) {
    guard let runAs, getuid() == 0 else {
      if getuid() == 0 {
        logger.warning(
          "running as root: give --user USER to drop root once the images and sockets are open"
        )
      }
      return
    }
    let paths = [configuration.controlPath, configuration.endpoint?.path].compactMap { $0 }
    for path in paths where chown(path, runAs.uid, runAs.gid) != 0 {
      throw ServerStartError("\(path): chown to \(runAs.name): \(Errno.current.text)")
    }
    try runAs.become()
    logger.info("running as \(runAs.name) (uid \(runAs.uid), gid \(runAs.gid))")
  }

  /// Set-up is done (images, sockets, signals, the user): from here on the process
  /// reaches only the paths FilesystemConfinement names (Landlock, where the kernel
  /// has it) and may make only the serving state's syscalls
  /// (Sandbox/ServingSyscalls.swift); any other kills it with SIGSYS.
  private func confine() throws(ServerStartError) {
    guard configuration.sandbox else {
      logger.warning("sandbox off: the server runs without Landlock and its seccomp allowlist")
      return
    }
    let policy = FilesystemConfinement.policy(
      configuration, imageDirectories: imageDirectories,
      notifySocket: SystemdNotify(environment: ProcessInfo.processInfo.environment).socketPath)
    do {
      switch try policy.restrictSelf() {
      case .enforced(let abi):
        logger.info("sandbox: Landlock ABI \(abi), \(policy.rules.count) path rule(s)")
      case .unavailable(let why):
        logger.warning("sandbox: \(why): files are limited only by the user's permissions")
      }
    } catch {
      throw ServerStartError(
        "cannot confine the server's files: \(error) (--sandbox off serves without it)")
    }
    let ioUring = configuration.namespaces.contains(where: \.usesIOURing)
    let rbd = configuration.namespaces.contains(where: \.isRBD)
    let filter = SeccompFilter(
      allowed: ServingSyscalls.allowed(ioUring: ioUring, rbd: rbd),
      rules: ServingSyscalls.rules(ioUring: ioUring))
    do {
      try filter.load()
    } catch {
      throw ServerStartError(
        "cannot install the seccomp filter: \(error) (--sandbox off serves without it)")
    }
    logger.info("sandbox: seccomp allowlist of \(filter.allowed.count) syscalls")
  }

  /// Why namespace_add may not open an RBD image, or nil when it may. Opening one
  /// reads a ceph.conf and keyring Landlock does not allow and makes threads and
  /// connections with calls beyond the serving allowlist (which has only what
  /// librbd's threads need once open), so with the sandbox on, RBD namespaces
  /// are configured at start.
  private var rbdRefusal: String? {
    guard configuration.sandbox else { return nil }
    return "rbd: namespaces are added only with --sandbox off (opening an image reads"
      + " files and makes calls the serving sandbox forbids): configure them at start"
  }

  private func makeControlServer() throws(Errno) -> ControlServer {
    let methods = ControlMethods(
      mailbox: mailbox, levelSwitch: levelSwitch, imageDirectories: imageDirectories,
      rbdTimeout: configuration.rbdTimeout, rbdRefusal: rbdRefusal)
    var periodic: ControlServer.Periodic?
    if let metricsPath = configuration.metricsPath {
      let mailbox = self.mailbox
      periodic = ControlServer.Periodic(
        intervalMilliseconds: configuration.metricsIntervalSeconds * 1000
      ) {
        guard let stats = mailbox.call({ $0.statistics() }) else { return }
        MetricsFile.write(PrometheusText.render(stats), to: metricsPath)
      }
    }
    let logger = self.logger
    return try ControlServer(
      path: configuration.controlPath, handler: { methods.handle($0) }, periodic: periodic,
      peerPolicy: peerPolicy, refused: { logger.warning("\($0)") })
  }

  /// Serves until told to stop, then finishes in-flight I/O, flushes, and
  /// removes the socket.
  /// Tells systemd `what` (sd_notify); a failure is only a warning, since the server
  /// serves whether or not systemd hears of it.
  private func notifySystemd(_ what: String, _ send: (SystemdNotify) throws(Errno) -> Void) {
    do { try send(notify) } catch {
      logger.warning("NOTIFY_SOCKET \(notify.socketPath ?? ""): cannot send \(what): \(error)")
    }
  }

  public func run() {
    #if DEBUG
      // Tests only (debug builds): one syscall outside the allowlist, to show the
      // sandbox kills the process (SIGSYS).
      if ProcessInfo.processInfo.environment["NVME_VFU_TEST_FORBIDDEN_SYSCALL"] == "1" {
        _ = getpgrp()
      }
    #endif
    for ns in device.controller.namespaces {
      guard let entry = namespaceConfigurations[ns.id] else { continue }
      let readOnly = ns.backend.isReadOnly ? ", read-only" : ""
      logger.info(
        "namespace \(ns.id): \(entry.backing) (\(ByteSize.format(ns.backend.size))\(readOnly))")
    }
    let serving = "serving \(device.controller.namespaces.count) namespace(s)"
    logger.info("\(serving)")
    if let control {
      let rc = control.start()
      if rc != 0 { logger.error("control socket: cannot start its thread: \(Errno(rc))") }
      if let path = configuration.controlPath { logger.info("control socket at \(path)") }
    }
    // Both sockets accept connections now (listen(2) was in init).
    notifySystemd("READY=1") { (notify) throws(Errno) in try notify.ready(status: serving) }
    reactor.run()
    logger.info("stopping: finishing in-flight I/O and flushing")
    notifySystemd("STOPPING=1") { (notify) throws(Errno) in try notify.stopping() }
    control?.stop()
    device.controller.quiesce()
    server.dropClient(reason: nil)
    server.closeListener()
    for ns in device.controller.namespaces { ns.backend.close() }
    signals.close()
    logStatistics()
  }

  private func handleSignals() -> Bool {
    var keepRunning = true
    while let signo = signals.next() {
      switch signo {
      case SIGUSR1: logStatistics()
      default:
        logger.info("received \(Self.signalName(signo))")
        keepRunning = false
      }
    }
    return keepRunning
  }

  /// One structured line per queue and namespace, and for doorbells and the reactor.
  public func logStatistics() {
    let events = StatisticsReport.events(
      controller: device.controller, reactor: reactor.statistics, mode: device.doorbellMode)
    for event in events { logger.info("\(event.message)", metadata: event.metadata) }
  }

  static func signalName(_ signo: Int32) -> String {
    switch signo {
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    case SIGHUP: "SIGHUP"
    default: "signal \(signo)"
    }
  }

  /// Reactor thread.
  func statistics() -> ServerStatistics {
    ServerStatistics(
      controller: device.controller, reactor: reactor.statistics,
      uptimeNanoseconds: MonotonicClock.nanoseconds() &- startTime)
  }

  /// The configuration as it is now (reactor thread): namespaces as attached,
  /// with their current sizes, and the current log level.
  var runningConfiguration: ServerConfiguration {
    var current = configuration
    current.logLevel = levelSwitch.level.rawValue
    current.namespaces = device.controller.namespaces.compactMap { ns in
      guard var entry = namespaceConfigurations[ns.id] else { return nil }
      entry.nsid = ns.id
      entry.blockSize = ns.blockSize
      if case .file = entry.backing { entry.size = ns.backend.size }
      return entry
    }
    return current
  }
}
