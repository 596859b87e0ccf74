import FoundationEssentials
import Glibc

/// systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected to
/// journald (systemd.exec(5)). Standard error goes to journald when it is that stream,
/// and not when something redirected it since.
public enum JournalStream {
  public static func isStandardError(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> Bool {
    guard let value = environment["JOURNAL_STREAM"] else { return false }
    let parts = value.split(separator: ":")
    guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else {
      return false
    }
    var status = stat()
    guard fstat(2, &status) == 0 else { return false }
    return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
  }
}
