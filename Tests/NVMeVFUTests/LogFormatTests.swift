import Foundation
import Glibc
import Logging
import NVMeHostDriver
import NVMeVFU
import TestSupport
import Testing

/// `--log-format text|json` and journald: the exact lines, and what the built server writes.
@Suite struct LogFormatTests {
  let figures: Logger.Metadata = [
    "nsid": .stringConvertible(1), "completed": .stringConvertible(UInt64(42)),
    "mode": "trapped",
  ]

  @Test func textIsTimestampLevelLabelMessageThenSortedFigures() {
    let line = LogLine(format: .text, journald: false).render(
      level: .info, label: "nvme-vfu-server", message: "statistics: namespace 1",
      metadata: figures, timestamp: { "2026-12-04T18:51:18.123+0000" })
    #expect(
      line
        == "2026-12-04T18:51:18.123+0000 info nvme-vfu-server: statistics: namespace 1 completed=42 mode=trapped nsid=1\n"
    )
  }

  @Test func journaldTextHasAPriorityAndNoTimestamp() {
    let render = { (level: Logger.Level) in
      LogLine(format: .text, journald: true).render(
        level: level, label: "nvme-vfu-server", message: "client connected", metadata: [:],
        timestamp: {
          Issue.record("journald stamps lines itself")
          return ""
        })
    }
    #expect(render(.info) == "<6>client connected\n")
    #expect(render(.error) == "<3>client connected\n")
    #expect(render(.warning) == "<4>client connected\n")
    #expect(render(.debug) == "<7>client connected\n")
    #expect(render(.critical) == "<2>client connected\n")
  }

  @Test func jsonKeepsNumbersAndEscapesText() throws {
    let line = LogLine(format: .json, journald: false).render(
      level: .warning, label: "nvme-vfu-server", message: "a \"quoted\"\nbreak\u{1}",
      metadata: figures, timestamp: { "T" })
    #expect(
      line
        == #"{"timestamp":"T","level":"warning","label":"nvme-vfu-server","message":"a \"quoted\"\nbreak\u0001","completed":42,"mode":"trapped","nsid":1}"#
        + "\n")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(object["message"] as? String == "a \"quoted\"\nbreak\u{1}")
    #expect(object["completed"] as? Int == 42)
  }

  @Test func journaldJSONHasAPriorityAndNoTimestamp() {
    let line = LogLine(format: .json, journald: true).render(
      level: .error, label: "l", message: "m", metadata: [:], timestamp: { "T" })
    #expect(line == #"<3>{"level":"error","label":"l","message":"m"}"# + "\n")
  }

  @Test func textQuotesValuesThatWouldSplitAndFoldsNewlines() {
    let line = LogLine(format: .text, journald: true).render(
      level: .info, label: "l", message: "two\nlines",
      metadata: ["path": "/a b", "empty": "", "eq": "a=b"], timestamp: { "" })
    #expect(line == #"<6>two lines empty="" eq="a=b" path="/a b""# + "\n")
  }

  /// JOURNAL_STREAM names standard error's device and inode; any other stream is not it.
  @Test func journalStreamMustBeStandardError() {
    var status = stat()
    #expect(fstat(2, &status) == 0)
    let ours = "\(status.st_dev):\(status.st_ino)"
    #expect(JournalStream.isStandardError(environment: ["JOURNAL_STREAM": ours]))
    #expect(
      !JournalStream.isStandardError(
        environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]))
    #expect(!JournalStream.isStandardError(environment: [:]))
    #expect(!JournalStream.isStandardError(environment: ["JOURNAL_STREAM": "garbage"]))
  }

  /// The built server with --log-format json: every line is one JSON object, and the
  /// statistics at its stop are one object per namespace with the counts as numbers.
  @Test func serverWritesJSONLinesAndStatisticsPerNamespace() throws {
    let scratch = try TemporaryDirectory("log-json")
    let socketPath = scratch.file("nvme.sock")
    let logPath = scratch.file("log")
    let server = try ChildProcess(
      try BuiltBinaries.path("nvme-vfu-server"),
      [
        "--socket", socketPath, "--backing", "mem:16M", "--backing", "null:8M",
        "--log-format", "json",
      ], output: .file(logPath))
    try Self.waitForSocket(socketPath)
    do {
      let host = try NVMeHost.connect(path: socketPath, configuration: .init())
      _ = try host.identifyNamespace(1)
    }
    server.signal(SIGTERM)
    #expect(server.waitForExit(timeoutSeconds: 20) == .exited(0))
    let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
    let objects = try lines.map { line in
      try #require(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }
    #expect(objects.allSatisfy { $0["timestamp"] is String && $0["level"] is String })
    let namespaces = objects.filter {
      ($0["message"] as? String)?.hasPrefix("statistics: namespace") == true
    }
    #expect(namespaces.compactMap { $0["nsid"] as? Int } == [1, 2])
    #expect(namespaces.allSatisfy { $0["completed"] is Int && $0["bytes_read"] is Int })
  }

  /// Under journald (JOURNAL_STREAM naming the server's own stderr) the server writes
  /// `<N>` priorities and no timestamps.
  @Test func serverUnderJournaldWritesPrioritiesWithoutTimestamps() throws {
    let scratch = try TemporaryDirectory("log-journald")
    let socketPath = scratch.file("nvme.sock")
    let logPath = scratch.file("log")
    #expect(FileManager.default.createFile(atPath: logPath, contents: nil))
    var status = stat()
    #expect(stat(logPath, &status) == 0)
    let server = try ChildProcess(
      try BuiltBinaries.path("nvme-vfu-server"), ["--socket", socketPath, "--backing", "mem:16M"],
      output: .file(logPath), environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"])
    try Self.waitForSocket(socketPath)
    server.signal(SIGTERM)
    #expect(server.waitForExit(timeoutSeconds: 20) == .exited(0))
    let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
    #expect(lines.contains("<6>serving 1 namespace(s)"), "\(lines)")
    #expect(lines.contains("<6>received SIGTERM"), "\(lines)")
    #expect(lines.allSatisfy { $0.hasPrefix("<") }, "\(lines)")
  }

  static func waitForSocket(_ path: String) throws {
    let deadline = Date().addingTimeInterval(20)
    while access(path, F_OK) != 0 && Date() < deadline { usleep(10_000) }
    try #require(access(path, F_OK) == 0, "the server listens within 20 s")
  }
}
