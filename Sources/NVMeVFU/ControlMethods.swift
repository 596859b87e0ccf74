import Control
import Logging

/// The control socket's methods (README, Control socket). Each runs on the
/// control thread: it checks its params there, then does what touches the
/// controller as one job on the reactor through the mailbox.
struct ControlMethods: Sendable {
  typealias Method = @Sendable (ControlMethods, Params) throws(JSONRPC.ErrorObject) -> JSONValue

  let mailbox: ReactorMailbox
  let levelSwitch: LogLevelSwitch
  /// Where namespace_add may open image files.
  let imageDirectories: ImageDirectories
  /// What an RBD namespace_add waits for its cluster, in seconds.
  let rbdTimeout: Int
  /// Why namespace_add refuses RBD images; nil when it takes them.
  let rbdRefusal: String?

  static let methods: [String: Method] = [
    "get_stats": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly([])
      return try methods.onReactor { runner in .success(runner.statistics().json) }
    },
    "get_config": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly([])
      return try methods.onReactor { runner in
        .success(ConfigFile.json(runner.runningConfiguration))
      }
    },
    "set_log_level": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly(["level"])
      let name = try params.requiredString("level")
      guard let level = Logger.Level(rawValue: name) else {
        throw .invalidParams(
          "level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      let previous = methods.levelSwitch.level
      methods.levelSwitch.level = level
      return ["level": .string(level.rawValue), "previous": .string(previous.rawValue)]
    },
  ]

  func handle(_ request: JSONRPC.Request) -> JSONRPC.Outcome {
    guard let method = Self.methods[request.method] ?? Self.namespaceMethods[request.method]
    else {
      let known = Array(Self.methods.keys) + Array(Self.namespaceMethods.keys)
      return .error(.methodNotFound(request.method, known: known))
    }
    do {
      return .result(try method(self, Params(request.params)))
    } catch {
      return .error(error)
    }
  }

  /// Runs `body` on the reactor; a reactor that does not take the job within
  /// 5 s (it is stopping) gives a busy error, and the job never runs.
  func onReactor(
    _ body: @escaping @Sendable (ServerRunner) -> Result<JSONValue, JSONRPC.ErrorObject>
  ) throws(JSONRPC.ErrorObject) -> JSONValue {
    guard let result = mailbox.call(body) else {
      throw .busy("the server did not take the request within 5 s (it may be stopping)")
    }
    return try result.get()
  }
}
