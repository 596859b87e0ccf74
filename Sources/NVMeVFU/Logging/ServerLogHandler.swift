import Glibc
import Logging
import POSIX
import Synchronization

/// The server's log handler: `LogLine`s on standard error, at the level a
/// `LogLevelSwitch` holds. Loggers are values, so every copy shares one output.
public struct ServerLogHandler: LogHandler {
  private let label: String
  private let line: LogLine
  private let levelSwitch: LogLevelSwitch
  private let output: LogOutput
  public var metadata: Logger.Metadata = [:]

  public init(
    label: String, levelSwitch: LogLevelSwitch, format: LogFormat,
    journald: Bool = JournalStream.isStandardError(),
    output: LogOutput = .standardError
  ) {
    self.label = label
    self.line = LogLine(format: format, journald: journald)
    self.levelSwitch = levelSwitch
    self.output = output
  }

  public var logLevel: Logger.Level {
    get { levelSwitch.level }
    set { levelSwitch.level = newValue }
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var fields = metadata
    if let more = event.metadata { fields.merge(more) { $1 } }
    if let error = event.error { fields["error"] = .string("\(error)") }
    output.write(
      line.render(
        level: event.level, label: label, message: event.message.description,
        metadata: fields, timestamp: LogTimestamp.now))
  }
}

/// Where log lines go: one write(2) per line under a lock, so lines from
/// several threads never interleave.
public final class LogOutput: Sendable {
  private let descriptor: Mutex<Int32>

  public init(descriptor: Int32) { self.descriptor = Mutex(descriptor) }

  public static let standardError = LogOutput(descriptor: 2)

  func write(_ text: String) {
    var bytes = Array(text.utf8)
    descriptor.withLock { fd in
      var offset = 0
      while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { raw in
          Glibc.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
        }
        if n < 0 && errno == EINTR { continue }
        // A log that cannot be written (a closed or full pipe) is dropped, never retried.
        guard n > 0 else { return }
        offset += n
      }
    }
  }
}
