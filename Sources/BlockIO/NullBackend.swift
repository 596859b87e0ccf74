import BackendContract
import Glibc

/// A store that keeps nothing (`null:SIZE`): reads return zeroes, writes are
/// dropped, and everything completes at the next `reap`. Measures the path
/// above the store.
public final class NullBackend: BlockBackend {
  // Read on every I/O's bounds check, written only by resize(to:) on the same
  // (reactor) thread between commands: no dynamic exclusivity check needed.
  @exclusivity(unchecked) public private(set) var size: UInt64
  public let isReadOnly: Bool
  public var completionFD: Int32? { nil }
  public var inFlight: Int { completions.count }
  /// Plain counters, read or assigned whole: no dynamic exclusivity check
  /// (its cost is per request; see `NVMeController` in NVMe).
  @exclusivity(unchecked) public private(set) var statistics = BlockStatistics()
  private let completions = ImmediateCompletions()
  private var closed = false

  public init(size: UInt64, readOnly: Bool = false) {
    self.size = size
    self.isReadOnly = readOnly
  }

  public func enqueue(_ request: BlockRequest) {
    statistics.submitted &+= 1
    let errno = perform(request)
    if errno != 0 { statistics.failed &+= 1 }
    completions.append(BlockCompletion(tag: request.tag, errno: errno))
  }

  private func perform(_ request: BlockRequest) -> Int32 {
    switch request.operation {
    case .flush: return 0
    case .read, .write:
      let isWrite = request.operation == .write
      if isWrite && isReadOnly { return EROFS }
      let shape = IOVecShape(request.iovecs, alignment: 1)
      guard let total = shape.total, fits(request.offset, total) else { return EIO }
      guard !shape.hasNullBase else { return EFAULT }
      if isWrite {
        statistics.bytesWritten &+= total
      } else {
        for vector in request.iovecs where vector.iov_len > 0 {
          vector.iov_base?.initializeMemory(as: UInt8.self, repeating: 0, count: vector.iov_len)
        }
        statistics.bytesRead &+= total
      }
      return 0
    case .discard, .writeZeroes:
      if isReadOnly { return EROFS }
      return fits(request.offset, request.length) ? 0 : EIO
    case .copy(let source):
      // Nothing to move: every block reads as zeroes already.
      if isReadOnly { return EROFS }
      return fits(request.offset, request.length) && fits(source, request.length) ? 0 : EIO
    }
  }

  private func fits(_ offset: UInt64, _ length: UInt64) -> Bool {
    let (end, overflow) = offset.addingReportingOverflow(length)
    return !overflow && end <= size
  }

  public func submit() { statistics.submitCalls &+= 1 }

  @discardableResult
  public func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    let count = completions.deliver(deliver)
    statistics.completed &+= UInt64(count)
    return count
  }

  public func drain(_ deliver: (BlockCompletion) -> Void) { reap(deliver) }

  public func close() {
    guard !closed else { return }
    closed = true
    completions.removeAll()
  }
}

extension NullBackend {
  public func resize(to bytes: UInt64) throws(BackendError) {
    guard !isReadOnly else { throw BackendError(errno: EROFS) }
    size = bytes
  }

  /// Nothing is ever kept.
  public func holdsData(from offset: UInt64) -> Bool { false }
}
