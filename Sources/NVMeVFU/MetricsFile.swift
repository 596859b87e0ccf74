import Glibc
import POSIX

/// Writes the metrics file whole: to a temporary file beside it, then renamed
/// over it, so a collector never reads half a file. Plain open, write and rename in
/// that one directory: what the sandbox (Landlock's rule for it) allows, and nothing
/// a library might add (its own temporary names elsewhere).
enum MetricsFile {
  static func write(_ text: String, to path: String) {
    let temporary = path + ".tmp"
    let fd = retryingEINTR { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    guard fd >= 0 else { return }
    let written = writeAll(Array(text.utf8), to: fd)
    close(fd)
    if !written || rename(temporary, path) != 0 { unlink(temporary) }
  }

  private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let count = bytes.withUnsafeBytes { buffer -> Int in
        guard let base = buffer.baseAddress else { return -1 }
        return retryingEINTR { Glibc.write(fd, base + offset, buffer.count - offset) }
      }
      guard count > 0 else { return false }
      offset += count
    }
    return true
  }
}
