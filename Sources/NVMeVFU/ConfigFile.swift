import BlockIO
import Control
import FoundationEssentials
import Glibc

/// `--config FILE`: the server as one JSON object, in the form `get_config`
/// prints, so a running server's configuration can be saved and started
/// again. Unknown keys are refused (a misspelt key must not be ignored).
///
///     {"socket": "/run/nvme-vfu/vm1.sock", "control": "/run/nvme-vfu/vm1.ctl",
///      "namespaces": [{"nsid": 1, "backing": "/srv/vm1.img", "size": "20G"}]}
public enum ConfigFile {
  static let topKeys: Set<String> = [
    "socket", "control", "metrics_file", "metrics_interval", "log_level", "log_format",
    "poll", "doorbells",
    "serial", "model", "socket_mode", "allow_uid", "user", "sandbox", "image_dirs", "io_queues",
    "rbd_timeout",
    "queue_depth", "max_namespaces", "namespaces",
  ]
  static let namespaceKeys: Set<String> = [
    "nsid", "backing", "size", "readonly", "block_size", "qos",
  ]

  /// Reads and parses `path`; one line naming the file and the problem on failure.
  public static func load(path: String) throws(ServerStartError) -> ServerConfiguration {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ServerStartError("\(path): cannot read the config file")
    }
    guard let document = JSONValue.parse(data) else {
      throw ServerStartError("\(path): not valid JSON")
    }
    do {
      return try parse(document)
    } catch {
      throw ServerStartError("\(path): \(error.message)")
    }
  }

  public static func parse(_ document: JSONValue) throws(JSONRPC.ErrorObject)
    -> ServerConfiguration
  {
    guard let members = document.objectValue else {
      throw .invalidParams("the configuration is a JSON object, not \(document.typeName)")
    }
    let params = Params(members)
    try params.allowOnly(topKeys)
    var configuration = ServerConfiguration()
    if let socket = try params.string("socket") { configuration.endpoint = .path(socket) }
    configuration.controlPath = try params.string("control")
    configuration.metricsPath = try params.string("metrics_file")
    if let interval = try params.unsigned("metrics_interval") {
      configuration.metricsIntervalSeconds = Int(clamping: interval)
    }
    if let level = try params.string("log_level") { configuration.logLevel = level }
    if let format = try params.string("log_format") {
      guard let value = LogFormat(rawValue: format) else {
        throw .invalidParams("log_format must be text or json, not \"\(format)\"")
      }
      configuration.logFormat = value
    }
    if let poll = try params.string("poll") {
      guard let mode = PollMode(rawValue: poll) else {
        throw .invalidParams("poll must be adaptive or busy")
      }
      configuration.pollMode = mode
    }
    if let doorbells = try params.string("doorbells") {
      guard let mode = DoorbellMode(rawValue: doorbells) else {
        throw .invalidParams("doorbells must be trapped or mapped")
      }
      configuration.doorbellMode = mode
    }
    if let mode = try params.string("socket_mode") {
      guard let value = UInt32(mode, radix: 8), value <= 0o777 else {
        throw .invalidParams("socket_mode must be an octal mode such as \"0600\", not \"\(mode)\"")
      }
      configuration.socketMode = value
    }
    if let uids = members["allow_uid"] {
      guard let values = uids.arrayValue?.compactMap(\.unsignedValue),
        values.count == uids.arrayValue?.count, values.allSatisfy({ $0 <= UInt32.max })
      else { throw .invalidParams("allow_uid must be an array of uids") }
      configuration.allowedUIDs = values.map { UInt32($0) }
    }
    configuration.user = try params.string("user")
    if let sandbox = try params.bool("sandbox") { configuration.sandbox = sandbox }
    if let dirs = members["image_dirs"] {
      guard let values = dirs.arrayValue?.compactMap(\.stringValue),
        values.count == dirs.arrayValue?.count
      else { throw .invalidParams("image_dirs must be an array of directory paths") }
      configuration.imageDirectories = values
    }
    if let timeout = try params.unsigned("rbd_timeout") {
      configuration.rbdTimeout = Int(clamping: timeout)
    }
    if let serial = try params.string("serial") { configuration.serialNumber = serial }
    if let model = try params.string("model") { configuration.modelNumber = model }
    if let queues = try params.unsigned("io_queues") {
      configuration.ioQueues = Int(clamping: queues)
    }
    if let depth = try params.unsigned("queue_depth") {
      configuration.queueDepth = Int(clamping: depth)
    }
    if let count = try params.unsigned("max_namespaces") {
      configuration.maxNamespaces = Int(clamping: count)
    }
    if let list = members["namespaces"] {
      guard let entries = list.arrayValue else {
        throw .invalidParams("namespaces must be an array, not \(list.typeName)")
      }
      configuration.namespaces = try entries.enumerated().map {
        (index, entry) throws(JSONRPC.ErrorObject) in
        do throws(JSONRPC.ErrorObject) {
          return try namespace(entry)
        } catch {
          throw .invalidParams("namespaces[\(index)]: \(error.message)")
        }
      }
    }
    return configuration
  }

  /// One namespace entry, in the file or as `namespace_add`'s params.
  static func namespace(_ entry: JSONValue) throws(JSONRPC.ErrorObject) -> NamespaceConfiguration {
    guard let members = entry.objectValue else {
      throw .invalidParams("a namespace is an object, not \(entry.typeName)")
    }
    let params = Params(members)
    try params.allowOnly(namespaceKeys)
    let text = try params.requiredString("backing")
    let spec: BackendSpec
    do {
      spec = try BackendSpec(parsing: text)
    } catch {
      throw .invalidParams("backing: \(error.description)")
    }
    var ns = NamespaceConfiguration(backing: spec)
    if members["nsid"] != nil { ns.nsid = try params.nsid() }
    ns.size = try params.size("size")
    ns.readOnly = try params.bool("readonly") ?? false
    if let blockSize = try params.unsigned("block_size") {
      guard blockSize == 512 || blockSize == 4096 else {
        throw .invalidParams("block_size must be 512 or 4096, not \(blockSize)")
      }
      ns.blockSize = Int(blockSize)
    }
    if let qos = members["qos"] {
      guard let limits = qos.objectValue else {
        throw .invalidParams("qos must be an object, not \(qos.typeName)")
      }
      let qosParams = Params(limits)
      try qosParams.allowOnly(["iops", "bytes_per_second"])
      ns.iopsLimit = try qosParams.unsigned("iops") ?? 0
      ns.bytesPerSecondLimit = try qosParams.size("bytes_per_second") ?? 0
    }
    return ns
  }

  /// The configuration as the file holds it (what `get_config` returns).
  public static func json(_ configuration: ServerConfiguration) -> JSONValue {
    var members: [String: JSONValue] = [
      "log_level": .string(configuration.logLevel),
      "log_format": .string(configuration.logFormat.rawValue),
      "poll": .string(configuration.pollMode.rawValue),
      "doorbells": .string(configuration.doorbellMode.rawValue),
      "serial": .string(configuration.serialNumber),
      "model": .string(configuration.modelNumber),
      "io_queues": .unsigned(UInt64(configuration.ioQueues)),
      "queue_depth": .unsigned(UInt64(configuration.queueDepth)),
      "rbd_timeout": .unsigned(UInt64(configuration.rbdTimeout)),
      "max_namespaces": .unsigned(UInt64(configuration.maxNamespaces)),
      "metrics_interval": .unsigned(UInt64(configuration.metricsIntervalSeconds)),
      "namespaces": .array(configuration.namespaces.map(json)),
    ]
    if case .path(let path) = configuration.endpoint { members["socket"] = .string(path) }
    if let control = configuration.controlPath { members["control"] = .string(control) }
    members["socket_mode"] = .string("0" + String(configuration.socketMode, radix: 8))
    if let uids = configuration.allowedUIDs {
      members["allow_uid"] = .array(uids.map { .unsigned(UInt64($0)) })
    }
    if let user = configuration.user { members["user"] = .string(user) }
    members["sandbox"] = .bool(configuration.sandbox)
    if !configuration.imageDirectories.isEmpty {
      members["image_dirs"] = .array(configuration.imageDirectories.map { .string($0) })
    }
    if let metrics = configuration.metricsPath { members["metrics_file"] = .string(metrics) }
    return .object(members)
  }

  static func json(_ ns: NamespaceConfiguration) -> JSONValue {
    var members: [String: JSONValue] = [
      "backing": .string(ns.backing.unambiguousSpelling),
      "readonly": .bool(ns.readOnly),
      "block_size": .unsigned(UInt64(ns.blockSize)),
    ]
    if let nsid = ns.nsid { members["nsid"] = .unsigned(UInt64(nsid)) }
    if let size = ns.size { members["size"] = .unsigned(size) }
    if ns.iopsLimit != 0 || ns.bytesPerSecondLimit != 0 {
      members["qos"] = [
        "iops": .unsigned(ns.iopsLimit), "bytes_per_second": .unsigned(ns.bytesPerSecondLimit),
      ]
    }
    return .object(members)
  }
}
