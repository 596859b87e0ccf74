/// What one input did, and every invariant it broke. The fuzz binary turns a
/// violation into a crash (so libFuzzer saves the input); the replay tests
/// expect none.
public struct FuzzReport: Sendable, CustomStringConvertible {
  public private(set) var violations: [String] = []
  /// Counters for humans replaying an input (what was reached).
  public var notes: [String: Int] = [:]

  public init() {}

  public var isClean: Bool { violations.isEmpty }

  mutating func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { violations.append(message()) }
  }

  mutating func count(_ key: String, _ amount: Int = 1) {
    notes[key, default: 0] += amount
  }

  public var description: String {
    let counters = notes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    let head = violations.isEmpty ? "clean" : "VIOLATIONS: " + violations.joined(separator: "; ")
    return head + (counters.isEmpty ? "" : " [" + counters.joined(separator: " ") + "]")
  }
}
