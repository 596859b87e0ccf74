import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What /proc says about this process: open descriptors, mappings, and a
/// thread's CPU time.
enum ProcessProbe {
  static func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
  }

  /// Lines of /proc/self/maps that mention `name` (a memfd's name shows there).
  static func mappings(named name: String) -> Int {
    guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else {
      return -1
    }
    return maps.split(separator: "\n").filter { $0.contains(name) }.count
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
