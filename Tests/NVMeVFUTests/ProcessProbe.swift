import Foundation
import Glibc

/// What /proc says about this process: open descriptors, mappings, and a
/// thread's CPU time.
enum ProcessProbe {
  static func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
  }

  /// Lines of /proc/self/maps that mention `name` (a memfd's name shows there).
  static func mappings(named name: String) -> Int {
    let maps = contents(of: "/proc/self/maps")
    guard !maps.isEmpty else { return -1 }
    return maps.split(separator: "\n").filter { $0.contains(name) }.count
  }

  /// A /proc file read to its end with read(2). They report size 0, and
  /// Foundation's String(contentsOfFile:) returns only their first 4 KiB
  /// (about 40 lines of maps).
  static func contents(of path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = read(fd, &chunk, chunk.count)
      guard count > 0 else { break }
      bytes.append(contentsOf: chunk[..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Descriptors whose target mentions `name`.
  static func descriptors(named name: String) -> Int {
    let dir = "/proc/self/fd"
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
      return -1
    }
    return entries.filter { entry in
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(entry)"))?
        .contains(name) == true
    }.count
  }

  /// utime + stime of thread `tid` of this process, in seconds.
  static func threadCPUSeconds(_ tid: Int32) -> Double? {
    guard
      let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after "(comm)": state is field 3; utime and stime are 14 and 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12])
    else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  /// Waits (up to `seconds`) for `condition`; true when it held.
  static func eventually(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
      if condition() { return true }
      usleep(10_000)
    }
    return condition()
  }
}
