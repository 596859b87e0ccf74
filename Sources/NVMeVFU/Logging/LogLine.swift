import Logging

/// One log event rendered as one line, in text or JSON, for a terminal or for journald.
/// Pure, so tests can check exact lines.
public struct LogLine: Sendable {
  public var format: LogFormat
  /// Writing to journald (JOURNAL_STREAM): it stamps each line itself, so no timestamp,
  /// and it reads the priority from a leading `<N>` (sd-daemon(3)).
  public var journald: Bool

  public init(format: LogFormat, journald: Bool) {
    self.format = format
    self.journald = journald
  }

  /// The line, ending in a newline. `timestamp` is only read when it is printed.
  public func render(
    level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
    timestamp: () -> String
  ) -> String {
    let prefix = journald ? "<\(Self.syslogPriority(level))>" : ""
    // Sorted, so the same event is the same line.
    let fields = metadata.sorted { $0.key < $1.key }
    switch format {
    case .text:
      var line = journald ? prefix : "\(timestamp()) \(level.rawValue) \(label): "
      line += Self.singleLine(message)
      for (key, value) in fields { line += " \(key)=\(Self.textValue(value))" }
      return line + "\n"
    case .json:
      var members: [(String, String)] = []
      if !journald { members.append(("timestamp", JSONText.string(timestamp()))) }
      members.append(("level", JSONText.string(level.rawValue)))
      members.append(("label", JSONText.string(label)))
      members.append(("message", JSONText.string(message)))
      for (key, value) in fields { members.append((key, JSONText.value(value))) }
      let body = members.map { "\(JSONText.string($0.0)):\($0.1)" }.joined(separator: ",")
      return prefix + "{" + body + "}\n"
    }
  }

  /// syslog(3)'s priorities; swift-log's trace has none of its own and shares debug's.
  public static func syslogPriority(_ level: Logger.Level) -> Int {
    switch level {
    case .trace, .debug: 7
    case .info: 6
    case .notice: 5
    case .warning: 4
    case .error: 3
    case .critical: 2
    }
  }

  /// A value with a space, quote or equals sign is quoted, so key=value pairs split cleanly.
  static func textValue(_ value: Logger.MetadataValue) -> String {
    let text = singleLine(value.description)
    let plain = !text.isEmpty && !text.contains { $0 == " " || $0 == "\"" || $0 == "=" }
    return plain ? text : JSONText.string(text)
  }

  /// A message with a newline would read as two events; journald would split it.
  static func singleLine(_ text: String) -> String {
    text.contains("\n") ? String(text.map { $0 == "\n" ? " " : $0 }) : text
  }
}
