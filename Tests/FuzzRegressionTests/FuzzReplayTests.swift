import Foundation
import FuzzHarness
import Testing

/// Replays every committed seed and every saved fuzz finding through the
/// same harnesses the fuzzer runs, so `swift test` guards them for good.
/// Each harness checks its own invariants per input (no descriptor leaked,
/// server and device freed, a fresh client or a re-enabled controller still
/// served afterwards); a clean report means all of them held.
@Suite struct FuzzReplayTests {
  static let fuzzDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

  static func files(_ folder: String, _ target: FuzzTarget) -> [URL] {
    let directory = fuzzDirectory.appendingPathComponent(folder)
      .appendingPathComponent(target.rawValue)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
  }

  static func expectClean(_ target: FuzzTarget, _ files: [URL]) throws {
    let outcomes = try ReplayProcess.replay(target, files)
    for file in files {
      let outcome = try #require(outcomes[file.path], "\(file.lastPathComponent): no report")
      #expect(outcome.clean, "\(outcome.line)")
    }
  }

  @Test("seed corpus replays clean", arguments: FuzzTarget.allCases)
  func corpus(_ target: FuzzTarget) throws {
    let files = Self.files("Corpus", target)
    #expect(!files.isEmpty)
    try Self.expectClean(target, files)
  }

  /// Inputs that once crashed the server or broke an invariant (run.sh saves
  /// them there); each was fixed in Sources/ (README, "Fuzzing").
  @Test("saved findings replay clean", arguments: FuzzTarget.allCases)
  func regressions(_ target: FuzzTarget) throws {
    try Self.expectClean(target, Self.files("Regressions", target))
  }

  /// The committed seeds are what the generator makes today; after a format
  /// change: `swift run nvme-vfu-fuzz seeds Tests/Fuzz/Corpus`.
  @Test("committed seeds match the generator", arguments: FuzzTarget.allCases)
  func seedsUpToDate(_ target: FuzzTarget) throws {
    let generated = SeedCorpus.seeds(for: target)
    let committed = Self.files("Corpus", target).filter {
      $0.lastPathComponent.hasPrefix(SeedCorpus.prefix)
    }
    #expect(committed.map(\.lastPathComponent) == generated.map(\.name).sorted())
    for (name, bytes) in generated {
      let file = Self.fuzzDirectory.appendingPathComponent("Corpus/\(target.rawValue)/\(name)")
      #expect(try Data(contentsOf: file) == Data(bytes), "\(name) differs from the generator")
    }
  }

  /// The seeds reach as deep as they were written to: a format change that
  /// silently stopped them short would leave the fuzzer starting shallow.
  @Test func seedsReachTheirDepth() throws {
    func notes(_ target: FuzzTarget, _ seed: String) throws -> [String: Int] {
      let file = Self.fuzzDirectory.appendingPathComponent("Corpus/\(target.rawValue)/seed-\(seed)")
      return try #require(try ReplayProcess.replay(target, [file])[file.path]).notes
    }
    // 4 admin and 3 I/O commands complete before the unmap.
    #expect(try notes(.vfioStream, "enable-io")["nvmeCommands"] == 7)
    #expect(try notes(.vfioStream, "fdless")["dmaRequests", default: 0] >= 8)
    // 4 queue creations and 5 I/O commands, all successful.
    let prp = try notes(.nvmeCommands, "io-prp")
    #expect(prp["completions"] == 9 && prp["errorCompletions"] == 0)
    // 4 queue creations, 2 Doorbell Buffer Configs and 13 I/O commands rung
    // through the shadow buffer, all successful.
    let shadow = try notes(.nvmeCommands, "shadow-doorbells")
    #expect(shadow["completions"] == 19 && shadow["errorCompletions"] == 0)
    #expect(try notes(.versionJSON, "qemu")["negotiated"] == 1)
  }
}
