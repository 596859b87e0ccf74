/// One contiguous piece of a command's data buffer, in guest addresses.
public struct DataSegment: Sendable, Hashable {
  public var address: UInt64
  public var length: Int
  /// An SGL Bit Bucket: read data for this many bytes is discarded, nothing
  /// is transferred to or from `address`.
  public var isBitBucket: Bool

  public init(address: UInt64, length: Int, isBitBucket: Bool = false) {
    self.address = address
    self.length = length
    self.isBitBucket = isBitBucket
  }
}

extension Array where Element == DataSegment {
  /// Total bytes described, bit buckets included. Saturates rather than traps.
  public var totalLength: Int {
    var total = 0
    for segment in self {
      let (sum, overflow) = total.addingReportingOverflow(segment.length)
      total = overflow ? Int.max : sum
    }
    return total
  }
}

/// Accumulates segments, merging a piece into the previous one when it
/// continues it exactly (adjacent PRP pages are common).
struct DataSegmentBuilder {
  private(set) var segments: [DataSegment] = []

  /// Adds `length` bytes at `address`. Rejects a range that would wrap past
  /// the top of the 64-bit address space (Data Transfer Error).
  mutating func append(address: UInt64, length: Int, isBitBucket: Bool = false) throws(NVMeStatus) {
    guard length > 0 else { return }
    if !isBitBucket {
      guard !address.addingReportingOverflow(UInt64(length) &- 1).overflow else {
        throw .dataTransferError
      }
    }
    if let last = segments.last, last.isBitBucket == isBitBucket,
      isBitBucket || last.address &+ UInt64(last.length) == address,
      !last.length.addingReportingOverflow(length).overflow
    {
      segments[segments.count &- 1].length = last.length &+ length
      return
    }
    segments.append(DataSegment(address: address, length: length, isBitBucket: isBitBucket))
  }
}
