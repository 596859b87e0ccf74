import Glibc

/// What a request's iovecs add up to, found in one pass without touching
/// the memory they point at.
struct IOVecShape {
  /// Total bytes, nil when the lengths overflow.
  var total: UInt64?
  /// Every base address and length is a multiple of the alignment.
  var isAligned: Bool
  /// Some vector has bytes but no base address.
  var hasNullBase: Bool

  init(_ vectors: UnsafeMutableBufferPointer<iovec>, alignment: Int) {
    let mask = UInt(alignment &- 1)
    var total: UInt64 = 0
    var overflow = false
    var bits: UInt = 0
    var hasNullBase = false
    for vector in vectors {
      let (sum, o) = total.addingReportingOverflow(UInt64(vector.iov_len))
      overflow = overflow || o
      total = sum
      bits |= UInt(bitPattern: vector.iov_base) | UInt(vector.iov_len)
      if vector.iov_base == nil && vector.iov_len > 0 { hasNullBase = true }
    }
    self.total = overflow ? nil : total
    self.isAligned = bits & mask == 0
    self.hasNullBase = hasNullBase
  }
}

extension UnsafeMutableBufferPointer where Element == iovec {
  /// Copies the vectors' bytes, in order, to `destination`.
  func gather(into destination: UnsafeMutableRawPointer) {
    var at = destination
    for vector in self where vector.iov_len > 0 {
      guard let base = vector.iov_base else { continue }
      at.copyMemory(from: base, byteCount: vector.iov_len)
      at += vector.iov_len
    }
  }

  /// Copies `source` out across the vectors, in order.
  func scatter(from source: UnsafeRawPointer) {
    var at = source
    for vector in self where vector.iov_len > 0 {
      guard let base = vector.iov_base else { continue }
      base.copyMemory(from: at, byteCount: vector.iov_len)
      at += vector.iov_len
    }
  }
}
