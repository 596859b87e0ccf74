/// Device Self-test log (LID 06h), 564 bytes, Base 2.0 Figures 211-212: the
/// operation in progress and its completion, then up to 20 results, newest
/// first.
public struct DeviceSelfTestLog: Sendable, Hashable {
  public static let size = 564
  public static let capacity = 20
  static let resultSize = 28

  /// Self-test codes (Device Self-test CDW10 bits 3:0 and the log's STC fields).
  public enum Code: UInt8, Sendable {
    case short = 0x1
    case extended = 0x2
    /// Only in a command: abort the operation in progress.
    case abort = 0xF
  }

  /// Result values (result entry byte 0, bits 3:0).
  public enum Outcome: UInt8, Sendable {
    case completedWithoutError = 0x0
    case abortedByCommand = 0x1
    case abortedByControllerReset = 0x2
    case abortedByNamespaceRemoval = 0x3
    case abortedByFormat = 0x4
    case fatalError = 0x5
    case failedSegmentUnknown = 0x6
    case failedSegment = 0x7
  }

  /// Segment 7, the media check: the only segment here that can fail.
  public static let mediaCheckSegment: UInt8 = 7

  public struct Result: Sendable, Hashable {
    public var code: Code
    public var outcome: Outcome
    /// Power-on hours when the operation ended.
    public var powerOnHours: UInt64
    /// For a failed segment: where, and what the read completed with.
    public var failure: Failure?

    public init(code: Code, outcome: Outcome, powerOnHours: UInt64, failure: Failure? = nil) {
      self.code = code
      self.outcome = outcome
      self.powerOnHours = powerOnHours
      self.failure = failure
    }
  }

  public struct Failure: Sendable, Hashable {
    public var segment: UInt8
    public var namespaceID: UInt32
    public var lba: UInt64
    public var status: NVMeStatus

    public init(segment: UInt8, namespaceID: UInt32, lba: UInt64, status: NVMeStatus) {
      self.segment = segment
      self.namespaceID = namespaceID
      self.lba = lba
      self.status = status
    }
  }

  /// The operation in progress, nil for none.
  public var current: Code?
  /// Its completion, 0...100 percent.
  public var percentComplete: UInt8 = 0
  /// Newest first, at most `capacity`.
  public private(set) var results: [Result] = []

  public init() {}

  public mutating func record(_ result: Result) {
    results.insert(result, at: 0)
    if results.count > Self.capacity { results.removeLast() }
  }

  public func encode() -> [UInt8] {
    var page = DataPage(size: Self.size)
    page.put(current?.rawValue ?? 0, at: 0)
    page.put(current == nil ? 0 : min(percentComplete, 100), at: 1)
    for index in 0..<Self.capacity {
      let base = 4 + index * Self.resultSize
      guard index < results.count else {
        page.put(UInt8(0x0F), at: base)  // result Fh: entry not used
        continue
      }
      let result = results[index]
      page.put(result.code.rawValue << 4 | result.outcome.rawValue, at: base)
      page.put(result.powerOnHours, at: base + 4)
      guard let failure = result.failure else { continue }
      page.put(failure.segment, at: base + 1)
      // Valid Diagnostic Information: NSID, failing LBA, SCT and SC valid.
      page.put(UInt8(0b1111), at: base + 2)
      page.put(failure.namespaceID, at: base + 12)
      page.put(failure.lba, at: base + 16)
      page.put(failure.status.sct, at: base + 24)
      page.put(failure.status.sc, at: base + 25)
    }
    return page.bytes
  }
}
