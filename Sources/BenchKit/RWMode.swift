/// The I/O pattern, named as fio names it.
public enum RWMode: String, CaseIterable, Sendable {
  case read, write, randread, randwrite, randrw

  var isRandom: Bool { self == .randread || self == .randwrite || self == .randrw }
  /// Whether the workload issues any write.
  var writes: Bool { self != .read && self != .randread }
}
