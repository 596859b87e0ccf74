import FoundationEssentials
import Glibc

/// Writes the metrics file whole: to a temporary file beside it, then renamed
/// over it, so a collector never reads half a file.
enum MetricsFile {
  static func write(_ text: String, to path: String) {
    let temporary = path + ".tmp"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
      return
    }
    if rename(temporary, path) != 0 { unlink(temporary) }
  }
}
