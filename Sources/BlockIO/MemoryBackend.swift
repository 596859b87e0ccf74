#if canImport(Glibc)
  import Glibc
#endif

/// A store in process memory (`mem:SIZE`): requests complete at the next
/// `reap`. Used by tests and by benchmarks that measure the protocol alone.
public final class MemoryBackend: BlockBackend {
  public let size: UInt64
  public let isReadOnly: Bool
  public var completionFD: Int32? { nil }
  public var inFlight: Int { completions.count }
  public private(set) var statistics = BlockStatistics()
  private let storage: UnsafeMutableRawBufferPointer
  private let completions = ImmediateCompletions()
  private var closed = false

  /// `size` bytes of zeroes. Fails (nil) when the memory cannot be had.
  ///
  /// Anonymous memory asked for in huge pages where the kernel allows it:
  /// random 4 KiB reads over a large store otherwise miss the TLB on almost
  /// every request.
  public init?(size: UInt64, readOnly: Bool = false) {
    guard size > 0, size <= UInt64(Int.max) else { return nil }
    let base = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let base, base != MAP_FAILED else { return nil }
    _ = madvise(base, Int(size), MADV_HUGEPAGE)  // advice only; fine if refused
    self.size = size
    self.isReadOnly = readOnly
    storage = UnsafeMutableRawBufferPointer(start: base, count: Int(size))
  }

  deinit { munmap(storage.baseAddress, storage.count) }

  /// The stored bytes, for tests.
  public var bytes: UnsafeMutableRawBufferPointer { storage }

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
      var offset = request.offset
      for vector in request.iovecs {
        guard let range = checkedRange(offset, UInt64(vector.iov_len)) else { return EIO }
        if vector.iov_len > 0, let base = vector.iov_base {
          if isWrite {
            (storage.baseAddress! + range.lowerBound).copyMemory(from: base, byteCount: range.count)
          } else {
            base.copyMemory(from: storage.baseAddress! + range.lowerBound, byteCount: range.count)
          }
        }
        offset &+= UInt64(vector.iov_len)
      }
      let moved = offset &- request.offset
      if isWrite { statistics.bytesWritten &+= moved } else { statistics.bytesRead &+= moved }
      return 0
    case .discard, .writeZeroes:
      if isReadOnly { return EROFS }
      guard let range = checkedRange(request.offset, request.length) else { return EIO }
      if range.count > 0 {
        (storage.baseAddress! + range.lowerBound).initializeMemory(
          as: UInt8.self, repeating: 0, count: range.count)
      }
      return 0
    }
  }

  /// `[offset, offset + length)` as Int indices when it lies inside the store.
  private func checkedRange(_ offset: UInt64, _ length: UInt64) -> Range<Int>? {
    let (end, overflow) = offset.addingReportingOverflow(length)
    guard !overflow, end <= size else { return nil }
    return Int(offset)..<Int(end)
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
