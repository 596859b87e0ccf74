import BackendContract
import BlockIO
import NVMe

/// One namespace as configured: what backs it and how it is presented.
public struct NamespaceConfiguration: Sendable, Hashable {
  /// The NSID; nil takes the next free one in order.
  public var nsid: UInt32?
  public var backing: BackendSpec
  /// For an image file that does not exist yet: created sparse with this size.
  public var size: UInt64?
  public var readOnly: Bool
  public var blockSize: Int
  /// QoS limits; 0 is none.
  public var iopsLimit: UInt64
  public var bytesPerSecondLimit: UInt64

  /// The QoS limits, nil when there are none.
  public var qosLimits: QoSLimits? {
    let limits = QoSLimits(
      iops: iopsLimit == 0 ? nil : iopsLimit,
      bytesPerSecond: bytesPerSecondLimit == 0 ? nil : bytesPerSecondLimit)
    return limits.isUnlimited ? nil : limits
  }

  public init(
    nsid: UInt32? = nil, backing: BackendSpec, size: UInt64? = nil, readOnly: Bool = false,
    blockSize: Int = 512, iopsLimit: UInt64 = 0, bytesPerSecondLimit: UInt64 = 0
  ) {
    self.nsid = nsid
    self.backing = backing
    self.size = size
    self.readOnly = readOnly
    self.blockSize = blockSize
    self.iopsLimit = iopsLimit
    self.bytesPerSecondLimit = bytesPerSecondLimit
  }
}

extension NamespaceConfiguration {
  /// Opens the backend (a file is created with `size` if missing; an RBD
  /// image waits at most `rbdTimeout` seconds for the cluster).
  func openBackend(rbdTimeout: Int) throws(BlockIOError) -> OpenedBackend {
    var createSize: UInt64? = nil
    if case .file = backing { createSize = size }
    return try BackendFactory.open(
      spec: backing, size: createSize, readOnly: readOnly, blockSize: blockSize,
      rbdTimeout: rbdTimeout)
  }

  public var isRBD: Bool {
    if case .rbd = backing { true } else { false }
  }

  public var usesIOURing: Bool {
    if case .file(_, .ioUring) = backing { true } else { false }
  }

  /// The namespace over `backend`; a backend it cannot present is closed.
  func namespace(id: UInt32, backend: any BlockBackend, serial: String) throws(ServerStartError)
    -> Namespace
  {
    guard
      let ns = Namespace(
        id: id, backend: backend, blockSize: blockSize, readOnly: readOnly,
        identifierSeed: serial)
    else {
      backend.close()
      throw ServerStartError(
        "\(backing): size \(backend.size) is not a multiple of the \(blockSize)-byte block size")
    }
    return ns
  }
}

/// Everything `nvme-vfu-server` is started with: the config file's contents
/// (`ConfigFile`) with the command line's flags applied over them.
public struct ServerConfiguration: Sendable {
  public enum Endpoint: Sendable, Hashable {
    /// Listen on a UNIX socket path (a stale socket file is replaced).
    case path(String)
    /// An inherited descriptor: a listening socket, or one already connected. A number
    /// from the command line; the server takes ownership when it starts.
    case descriptor(Int32)

    public var path: String? {
      if case .path(let path) = self { return path }
      return nil
    }
  }

  public var endpoint: Endpoint?
  /// In NSID order when they have none of their own.
  public var namespaces: [NamespaceConfiguration]
  public var ioQueues: Int
  public var queueDepth: Int
  public var serialNumber: String
  public var modelNumber: String
  public var pollMode: PollMode
  public var doorbellMode: DoorbellMode
  public var logLevel: String
  /// How log lines are written (`--log-format`).
  public var logFormat: LogFormat
  /// The JSON-RPC control socket (README, Control socket).
  public var controlPath: String?
  /// Prometheus text file, rewritten every `metricsIntervalSeconds`.
  public var metricsPath: String?
  public var metricsIntervalSeconds: Int
  /// Namespaces the controller can hold (Identify's NN): room for hot-add.
  public var maxNamespaces: Int
  /// The vfio-user socket file's mode (`--socket-mode`); systemd sets its own.
  public var socketMode: UInt32 = 0o600
  /// Peers allowed to connect to either socket, by uid (`--allow-uid`); nil: the
  /// server's own uid (after `--user`) and root.
  public var allowedUIDs: [UInt32]? = nil
  /// `USER[:GROUP]` to become once set-up is done (`--user`), when started as root.
  public var user: String? = nil
  /// Confine the serving state with Landlock and a seccomp allowlist
  /// (`--sandbox on|off`).
  public var sandbox = true
  /// Where namespace_add may open and create image files (`--image-dir`).
  public var imageDirectories: [String] = []
  /// Seconds an RBD namespace waits to reach its cluster, and for each
  /// operation on it (`--rbd-timeout`).
  public var rbdTimeout = RBDBackend.defaultTimeout

  public init(
    endpoint: Endpoint? = nil, namespaces: [NamespaceConfiguration] = [], ioQueues: Int = 16,
    queueDepth: Int = 1024, serialNumber: String = "NVMEVFU0001",
    modelNumber: String = "nvme-vfu SSD", pollMode: PollMode = .adaptive,
    doorbellMode: DoorbellMode = .trapped, logLevel: String = "info",
    logFormat: LogFormat = .text, controlPath: String? = nil,
    metricsPath: String? = nil, metricsIntervalSeconds: Int = 10, maxNamespaces: Int = 32
  ) {
    self.endpoint = endpoint
    self.namespaces = namespaces
    self.ioQueues = ioQueues
    self.queueDepth = queueDepth
    self.serialNumber = serialNumber
    self.modelNumber = modelNumber
    self.pollMode = pollMode
    self.doorbellMode = doorbellMode
    self.logLevel = logLevel
    self.logFormat = logFormat
    self.controlPath = controlPath
    self.metricsPath = metricsPath
    self.metricsIntervalSeconds = metricsIntervalSeconds
    self.maxNamespaces = maxNamespaces
  }

  public var controllerSettings: ControllerSettings {
    ControllerSettings(
      serialNumber: serialNumber, modelNumber: modelNumber, ioQueues: ioQueues,
      maxQueueEntries: queueDepth, maxNamespaces: maxNamespaces)
  }

  /// What no flag or file may get wrong, as one line naming the setting.
  public func validate() throws(ServerStartError) {
    guard endpoint != nil else {
      throw ServerStartError(
        "give one of --socket, --socket-path or --fd (or \"socket\" in --config)")
    }
    guard !namespaces.isEmpty else {
      throw ServerStartError("give at least one --backing (or \"namespaces\" in --config)")
    }
    guard (1...511).contains(ioQueues) else { throw ServerStartError("io queues must be 1-511") }
    guard (2...4096).contains(queueDepth) else {
      throw ServerStartError("queue depth must be 2-4096")
    }
    guard serialNumber.utf8.count <= 20, modelNumber.utf8.count <= 40 else {
      throw ServerStartError("the serial number is at most 20 bytes and the model at most 40")
    }
    guard (1...1024).contains(maxNamespaces), namespaces.count <= maxNamespaces else {
      throw ServerStartError(
        "max namespaces must be 1-1024 and at least the \(namespaces.count) configured")
    }
    guard (1...3600).contains(rbdTimeout) else {
      throw ServerStartError("the rbd timeout must be 1-3600 seconds")
    }
    guard (1...86400).contains(metricsIntervalSeconds) else {
      throw ServerStartError("the metrics interval must be 1-86400 seconds")
    }
    var seen = Set<UInt32>()
    for ns in namespaces {
      guard ns.blockSize == 512 || ns.blockSize == 4096 else {
        throw ServerStartError("\(ns.backing): block size must be 512 or 4096")
      }
      if let nsid = ns.nsid {
        guard nsid >= 1, Int(nsid) <= maxNamespaces else {
          throw ServerStartError("\(ns.backing): nsid \(nsid) is not 1-\(maxNamespaces)")
        }
        guard seen.insert(nsid).inserted else {
          throw ServerStartError("nsid \(nsid) is given to two namespaces")
        }
      }
    }
  }
}
