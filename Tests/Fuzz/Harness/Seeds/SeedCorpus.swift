import Foundation

/// The committed seed corpus is generated from code (this file and its
/// neighbours), so it follows the input formats when they change:
/// `nvme-vfu-fuzz seeds Tests/Fuzz/Corpus` rewrites it, and a replay test
/// fails while the committed files differ from what the code generates.
public enum SeedCorpus {
  /// Seed files are named `seed-NAME`; anything else in a corpus directory
  /// (inputs merged in by `run.sh --merge`) is not generated.
  public static let prefix = "seed-"

  public static func seeds(for target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
    let seeds: [(name: String, bytes: [UInt8])] =
      switch target {
      case .vfioStream: StreamSeeds.all
      case .nvmeCommands: CommandSeeds.all
      case .versionJSON: VersionSeeds.all
      }
    return seeds.map { (prefix + $0.name, $0.bytes) }
  }

  /// Writes `DIR/TARGET/seed-*`, removing seed files no longer generated.
  public static func write(to directory: URL) throws {
    let files = FileManager.default
    for target in FuzzTarget.allCases {
      let folder = directory.appendingPathComponent(target.rawValue)
      try files.createDirectory(at: folder, withIntermediateDirectories: true)
      let seeds = seeds(for: target)
      let names = Set(seeds.map(\.name))
      for old in try files.contentsOfDirectory(atPath: folder.path)
      where old.hasPrefix(prefix) && !names.contains(old) {
        try files.removeItem(at: folder.appendingPathComponent(old))
      }
      for (name, bytes) in seeds {
        try Data(bytes).write(to: folder.appendingPathComponent(name))
      }
    }
  }
}
