import Glibc

/// Local time to the millisecond with its UTC offset, one word:
/// `2026-12-04T18:51:18.123+0000`.
enum LogTimestamp {
  static func now() -> String {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    var seconds = spec.tv_sec
    var parts = tm()
    guard localtime_r(&seconds, &parts) != nil else { return "\(spec.tv_sec)" }
    var date = [CChar](repeating: 0, count: 32)
    var zone = [CChar](repeating: 0, count: 8)
    guard strftime(&date, date.count, "%Y-%m-%dT%H:%M:%S", &parts) > 0,
      strftime(&zone, zone.count, "%z", &parts) > 0
    else { return "\(spec.tv_sec)" }
    let millis = String(spec.tv_nsec / 1_000_000)
    let padded = String(repeating: "0", count: 3 - millis.count) + millis
    return String(cString: date) + "." + padded + String(cString: zone)
  }
}
