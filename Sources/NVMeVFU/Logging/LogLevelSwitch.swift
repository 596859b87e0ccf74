import Logging
import Synchronization

/// One log level for every logger the server made, changed at run time by
/// the control socket's `set_log_level`. Loggers are values, each holding a
/// copy of its handler; the handlers share this switch.
public final class LogLevelSwitch: Sendable {
  private let index: Atomic<Int>

  public init(_ level: Logger.Level) {
    index = Atomic(Logger.Level.allCases.firstIndex(of: level) ?? 2)
  }

  public var level: Logger.Level {
    get {
      let levels = Logger.Level.allCases
      let current = index.load(ordering: .relaxed)
      return current >= 0 && current < levels.count ? levels[current] : .info
    }
    set {
      index.store(Logger.Level.allCases.firstIndex(of: newValue) ?? 2, ordering: .relaxed)
    }
  }
}

/// swift-log's stream handler with its level read from a `LogLevelSwitch`.
public struct SwitchedLogHandler: LogHandler {
  private var inner: StreamLogHandler
  private let levelSwitch: LogLevelSwitch

  public init(label: String, levelSwitch: LogLevelSwitch) {
    inner = StreamLogHandler.standardError(label: label)
    inner.logLevel = .trace  // the switch filters; the stream writes what passes
    self.levelSwitch = levelSwitch
  }

  public var logLevel: Logger.Level {
    get { levelSwitch.level }
    set { levelSwitch.level = newValue }
  }

  public var metadata: Logger.Metadata {
    get { inner.metadata }
    set { inner.metadata = newValue }
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { inner[metadataKey: key] }
    set { inner[metadataKey: key] = newValue }
  }

  public func log(event: LogEvent) {
    inner.log(event: event)
  }
}
