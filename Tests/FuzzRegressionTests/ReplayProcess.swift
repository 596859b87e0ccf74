import Foundation
import FuzzHarness
import Testing

/// Runs `nvme-vfu-fuzz replay` (built next to the test bundle by `swift
/// test`) in a child process: the harness's descriptor-leak check counts the
/// whole process's descriptors, which only works where nothing else runs in
/// parallel, and an input that crashes fails one test instead of the run.
enum ReplayProcess {
  struct Outcome {
    var clean: Bool
    var line: String
    /// The report's counters, e.g. "nvmeCommands" -> 7.
    var notes: [String: Int]
  }

  static var tool: URL {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("nvme-vfu-fuzz")
  }

  /// One outcome per file, by path; a crash or a missing tool is recorded as
  /// an issue and yields no outcome for the files it cut short.
  static func replay(
    _ target: FuzzTarget, _ files: [URL], sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> [String: Outcome] {
    guard !files.isEmpty else { return [:] }
    let process = Process()
    process.executableURL = tool
    process.arguments = ["replay", target.rawValue] + files.map(\.path)
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    if process.terminationReason == .uncaughtSignal {
      let tail = text.split(separator: "\n").suffix(30).joined(separator: "\n")
      Issue.record(
        "replay of \(target.rawValue) crashed (signal \(process.terminationStatus)):\n\(tail)",
        sourceLocation: sourceLocation)
    }
    var outcomes: [String: Outcome] = [:]
    for line in text.split(separator: "\n").map(String.init) {
      guard let file = files.first(where: { line.hasPrefix($0.path + ": ") }) else { continue }
      outcomes[file.path] = Outcome(
        clean: line.dropFirst(file.path.count + 2).hasPrefix("clean"), line: line,
        notes: notes(line))
    }
    return outcomes
  }

  /// "[a=1 b=2]" at the end of a report line.
  private static func notes(_ line: String) -> [String: Int] {
    guard let open = line.lastIndex(of: "["), line.hasSuffix("]") else { return [:] }
    var notes: [String: Int] = [:]
    for pair in line[line.index(after: open)..<line.index(before: line.endIndex)].split(
      separator: " ")
    {
      let parts = pair.split(separator: "=")
      if parts.count == 2, let value = Int(parts[1]) { notes[String(parts[0])] = value }
    }
    return notes
  }
}
