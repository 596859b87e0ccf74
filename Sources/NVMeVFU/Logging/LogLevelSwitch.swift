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
