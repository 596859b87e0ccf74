// Without -DFUZZING (any ordinary `swift build`): a tool to replay inputs
// without sanitizers (e.g. under a debugger) and to regenerate the seeds.
#if !FUZZING
  import Foundation
  import FuzzHarness

  @main
  struct ReplayTool {
    static let usage = """
      usage: nvme-vfu-fuzz replay TARGET FILE|DIR ...   run inputs, print what each did
             nvme-vfu-fuzz seeds DIR                   write the seed corpus to DIR/TARGET/
      targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
      """

    static func main() {
      let arguments = Array(CommandLine.arguments.dropFirst())
      switch arguments.first {
      case "replay" where arguments.count >= 3:
        guard let target = FuzzTarget(rawValue: arguments[1]) else { fail(usage) }
        exit(replay(target, paths: Array(arguments.dropFirst(2))) ? 0 : 1)
      case "seeds" where arguments.count == 2:
        do {
          try SeedCorpus.write(to: URL(fileURLWithPath: arguments[1]))
        } catch {
          fail("nvme-vfu-fuzz: \(error)")
        }
      default:
        fail(usage)
      }
    }

    static func replay(_ target: FuzzTarget, paths: [String]) -> Bool {
      var clean = true
      for file in paths.flatMap(inputFiles) {
        guard let data = FileManager.default.contents(atPath: file) else {
          print("\(file): unreadable")
          clean = false
          continue
        }
        let report = target.run(Array(data))
        print("\(file): \(report)")
        clean = clean && report.isClean
      }
      return clean
    }

    /// A file, or the files of a directory (sorted, hidden ones skipped).
    static func inputFiles(_ path: String) -> [String] {
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
        return [path]
      }
      return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
    }

    static func fail(_ message: String) -> Never {
      FileHandle.standardError.write(Data((message + "\n").utf8))
      exit(2)
    }
  }
#endif
