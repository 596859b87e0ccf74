/// How the server writes its log lines (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
  /// `2026-12-04T18:51:18.123+0000 info nvme-vfu-server: message key=value ...`
  case text
  /// One JSON object per line: timestamp, level, label, message, then the metadata.
  case json
}
