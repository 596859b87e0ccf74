import ArgumentParser
import BlockIO
import BuildInfo
import CommandLineTool
import FoundationEssentials
import Glibc
import Logging
import NVMeVFU
import VFIOUser

/// `nvme-vfu-server`: an NVMe SSD for virtual machines, over vfio-user.
struct ServerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nvme-vfu-server",
    abstract: "Serve an emulated NVMe SSD to a VMM over vfio-user.",
    discussion: """
      Attach from QEMU (>= 10.1) with
        -object memory-backend-memfd,id=mem,size=...,share=on -machine memory-backend=mem
        -device '{"driver":"vfio-user-pci","socket":{"path":"PATH","type":"unix"}}'
      SIGTERM, SIGINT or SIGHUP: finish in-flight I/O, flush, remove the socket, exit 0.
      SIGUSR1: print statistics.
      Under systemd (nvme-vfu@.service): with no --socket or --fd it serves the socket
      systemd passes (LISTEN_FDS), and it sends READY=1 once serving and STOPPING=1
      on its stop signal to NOTIFY_SOCKET.
      --control PATH serves JSON-RPC (nvme-vfu-ctl): statistics, namespaces added,
      removed and resized live, QoS limits, the log level, the running configuration.
      """,
    version: BuildInfo.versionLine)

  @Option(name: .customLong("socket"), help: "UNIX socket path to listen on.")
  var socket: String?

  @Option(
    name: .customLong("socket-path"),
    help: "Same as --socket (the vfio-user backend-program convention).")
  var socketPath: String?

  @Option(
    name: .customLong("fd"),
    help: "Serve an inherited socket descriptor (listening or connected) instead of a path.")
  // A number from the command line, not yet owned: the server takes it when it starts.
  var fd: Int32?

  @Option(
    name: .customLong("backing"),
    help: "Image file, mem:SIZE or null:SIZE; repeat for more namespaces.")
  var backings: [String] = []

  // .unconditional: "-1G" is the value (refused as not positive), not a missing one.
  @Option(
    parsing: .unconditional, help: "Create missing image files sparse with this size (e.g. 1G).")
  var size: String?

  @Option(
    name: .customLong("block-size"), parsing: .unconditional,
    help: "Logical block size: 512 or 4096.")
  var blockSize: Int?

  @Flag(help: "Namespaces refuse writes.")
  var readonly = false

  @Option(
    name: .customLong("io-queues"), parsing: .unconditional,
    help: "I/O queue pairs offered (1-511; default 16).")
  var ioQueues: Int?

  @Option(
    name: .customLong("queue-depth"), parsing: .unconditional,
    help: "Largest queue, in entries (2-4096; default 1024).")
  var queueDepth: Int?

  @Option(help: "Serial number reported by Identify (default NVMEVFU0001).")
  var serial: String?

  @Option(help: "Model number reported by Identify (default \"nvme-vfu SSD\").")
  var model: String?

  @Option(help: "adaptive (sleep when idle; default) or busy (always spin).")
  var poll: String?

  @Option(
    help: ArgumentHelp(
      "trapped (doorbell writes are messages that wake the server; default) or mapped (a shared page; for SPDK's initiator and --poll busy)."
    ))
  var doorbells: String?

  @Option(
    name: .customLong("log-level"),
    help: "trace, debug, info (default), notice, warning, error; set_log_level changes it live.")
  var logLevel: String?

  @Option(
    name: .customLong("log-format"),
    help:
      "text (default; a timestamp, the level, the message, key=value figures) or json (one object per line). Under journald (JOURNAL_STREAM) lines carry <N> priorities and no timestamp."
  )
  var logFormat: String?

  @Option(
    help: ArgumentHelp(
      "JSON file with the server's settings and namespaces (the form get_config prints); flags override it, and --backing replaces its namespaces."
    ))
  var config: String?

  @Option(help: "UNIX socket for the JSON-RPC control interface (mode 0600).")
  var control: String?

  @Option(
    name: .customLong("metrics-file"),
    help: "Write Prometheus text metrics to this file (atomically) every --metrics-interval.")
  var metricsFile: String?

  @Option(
    name: .customLong("metrics-interval"), parsing: .unconditional,
    help: "Seconds between metrics-file writes (default 10)."
  )
  var metricsInterval: Int?

  @Option(
    name: .customLong("socket-mode"),
    help: "The vfio-user socket file's mode, octal (default 0600: only its owner connects).")
  var socketMode: String?

  @Option(
    name: .customLong("allow-uid"),
    help: ArgumentHelp(
      "A uid (or user name) whose processes may connect to the sockets (SO_PEERCRED); repeat for more. Default: the server's own uid (after --user) and root."
    ))
  var allowUIDs: [String] = []

  @Option(
    help: ArgumentHelp(
      "USER[:GROUP] to become once the images and sockets are open, when started as root (the sockets are given to USER)."
    ))
  var user: String?

  @Option(
    help: ArgumentHelp(
      "on (default: once set up, only the serving state's syscalls are allowed, any other kills the server with SIGSYS, and Landlock limits files to the sockets' and metrics file's directories and --image-dir) or off (for debugging)."
    ))
  var sandbox: String?

  @Option(
    name: .customLong("image-dir"),
    help: ArgumentHelp(
      "A directory namespace_add may open and create image files in; repeat for more. Without one, namespace_add takes only mem: and null: backings."
    ))
  var imageDirs: [String] = []

  @Option(
    name: .customLong("rbd-timeout"), parsing: .unconditional,
    help:
      "Seconds an rbd: namespace waits to reach its cluster, and for each operation on it; then the command fails (1-3600; default 5)."
  )
  var rbdTimeout: Int?

  @Option(
    name: .customLong("max-namespaces"), parsing: .unconditional,
    help: "Namespaces the controller can hold, for namespace_add (default 32).")
  var maxNamespaces: Int?

  func validate() throws {
    let endpoints = [socket != nil, socketPath != nil, fd != nil].filter { $0 }.count
    guard endpoints <= 1 else {
      throw ValidationError("give only one of --socket, --socket-path or --fd")
    }
    if let blockSize, blockSize != 512 && blockSize != 4096 {
      throw ValidationError("--block-size must be 512 or 4096, not \(blockSize)")
    }
    try Self.check("--io-queues", ioQueues, 1...511)
    try Self.check("--queue-depth", queueDepth, 2...4096)
    try Self.check("--max-namespaces", maxNamespaces, 1...1024)
    try Self.check("--rbd-timeout", rbdTimeout, 1...3600)
    try Self.check("--metrics-interval", metricsInterval, 1...86400)
    do {
      if let size { _ = try ByteSize.parse(size) }
      for text in backings { _ = try BackendSpec(parsing: text) }
    } catch {
      throw ValidationError(error.description)
    }
    if let poll, PollMode(rawValue: poll) == nil {
      throw ValidationError("--poll must be adaptive or busy")
    }
    if let doorbells, DoorbellMode(rawValue: doorbells) == nil {
      throw ValidationError("--doorbells must be trapped or mapped")
    }
    if let socketMode, Self.mode(socketMode) == nil {
      throw ValidationError(
        "--socket-mode must be an octal mode such as 0600 or 0660, not \(socketMode)")
    }
    for uid in allowUIDs where Self.uid(uid) == nil {
      throw ValidationError("--allow-uid \(uid): no such user (give a uid or a user name)")
    }
    if let sandbox, sandbox != "on" && sandbox != "off" {
      throw ValidationError("--sandbox must be on or off, not \(sandbox)")
    }
    if let logFormat, LogFormat(rawValue: logFormat) == nil {
      throw ValidationError("--log-format must be text or json")
    }
    if let logLevel, Logger.Level(rawValue: logLevel) == nil {
      throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
    }
  }

  /// An octal file mode (`0600`, `660`), at most 0777.
  static func mode(_ text: String) -> UInt32? {
    guard let value = UInt32(text, radix: 8), value <= 0o777 else { return nil }
    return value
  }

  /// A uid given as a number or a user name.
  static func uid(_ text: String) -> UInt32? {
    UInt32(text) ?? getpwnam(text).map { $0.pointee.pw_uid }
  }

  static func check(_ flag: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
    if let value, !range.contains(value) {
      throw ValidationError(
        "\(flag) must be \(range.lowerBound)-\(range.upperBound), not \(value)")
    }
  }

  /// The config file (if any) with every flag given applied over it.
  func configuration() throws(ServerStartError) -> ServerConfiguration {
    var configuration =
      try config.map { path throws(ServerStartError) in
        try ConfigFile.load(path: path)
      } ?? ServerConfiguration()
    // Flags first, then systemd's socket (LISTEN_FDS), then the config file's. With a
    // flag given, LISTEN_FDS is not looked at: what the user named wins, however many
    // sockets systemd passed.
    if let fd {
      configuration.endpoint = .descriptor(fd)
    } else if let path = socket ?? socketPath {
      configuration.endpoint = .path(path)
    } else if let activated = try SocketActivation.takeDescriptor(
      environment: ProcessInfo.processInfo.environment)
    {
      configuration.endpoint = .descriptor(activated)
    }
    do {
      let createSize = try size.map { text throws(BlockIOError) in try ByteSize.parse(text) }
      if !backings.isEmpty {
        configuration.namespaces = try backings.map { text throws(BlockIOError) in
          NamespaceConfiguration(backing: try BackendSpec(parsing: text))
        }
      }
      for index in configuration.namespaces.indices {
        if let createSize { configuration.namespaces[index].size = createSize }
        if let blockSize { configuration.namespaces[index].blockSize = blockSize }
        if readonly { configuration.namespaces[index].readOnly = true }
      }
    } catch {
      throw ServerStartError(error.description)
    }
    if let ioQueues { configuration.ioQueues = ioQueues }
    if let queueDepth { configuration.queueDepth = queueDepth }
    if let serial { configuration.serialNumber = serial }
    if let model { configuration.modelNumber = model }
    if let poll, let mode = PollMode(rawValue: poll) { configuration.pollMode = mode }
    if let doorbells, let mode = DoorbellMode(rawValue: doorbells) {
      configuration.doorbellMode = mode
    }
    if let logLevel { configuration.logLevel = logLevel }
    if let logFormat, let format = LogFormat(rawValue: logFormat) {
      configuration.logFormat = format
    }
    if let control { configuration.controlPath = control }
    if let metricsFile { configuration.metricsPath = metricsFile }
    if let metricsInterval { configuration.metricsIntervalSeconds = metricsInterval }
    if let maxNamespaces { configuration.maxNamespaces = maxNamespaces }
    if let rbdTimeout { configuration.rbdTimeout = rbdTimeout }
    if let socketMode, let mode = Self.mode(socketMode) { configuration.socketMode = mode }
    if !allowUIDs.isEmpty { configuration.allowedUIDs = allowUIDs.compactMap(Self.uid) }
    if let user { configuration.user = user }
    if let sandbox { configuration.sandbox = sandbox == "on" }
    if !imageDirs.isEmpty { configuration.imageDirectories = imageDirs }
    guard Logger.Level(rawValue: configuration.logLevel) != nil else {
      throw ServerStartError(
        "log level must be one of trace, debug, info, notice, warning, error, not \"\(configuration.logLevel)\""
      )
    }
    return configuration
  }

  func run() throws {
    let configuration: ServerConfiguration
    do {
      configuration = try self.configuration()
    } catch {
      Self.fail(error.description)
    }
    let levelSwitch = LogLevelSwitch(Logger.Level(rawValue: configuration.logLevel) ?? .info)
    let logger = Logger(label: "nvme-vfu-server") { label in
      ServerLogHandler(label: label, levelSwitch: levelSwitch, format: configuration.logFormat)
    }
    let runner: ServerRunner
    do {
      runner = try ServerRunner(
        configuration: configuration, logger: logger, levelSwitch: levelSwitch)
    } catch {
      Self.fail("\(error)")
    }
    runner.run()
  }

  /// One line on stderr, exit status 1: what the user must fix.
  static func fail(_ message: String) -> Never {
    let line = "nvme-vfu-server: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    Glibc.exit(1)
  }
}

ServerCommand.mainWithOneLineErrors()
