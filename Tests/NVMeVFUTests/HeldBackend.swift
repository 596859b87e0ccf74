import BackendContract
import Glibc
import Synchronization

/// A memory store whose requests finish only when the test lets them: the
/// reactor sees them in flight for as long as the test wants. Data moves at
/// completion time, so the iovecs (guest memory) must still be mapped then.
///
/// `@unchecked Sendable`: the `BlockBackend` methods run on the reactor
/// thread only (they alone touch `queue` and `storage`); the test thread
/// touches nothing but `control`, which a Mutex guards.
final class HeldBackend: BlockBackend, @unchecked Sendable {
  struct Control {
    /// Requests enqueued so far (numbered from 0 in arrival order).
    var arrived = 0
    /// Requests numbered below this may complete.
    var released = 0
    /// Requests completed so far.
    var completed = 0
    /// A drain (reset, DMA unmap) releases everything instead of waiting.
    var releaseOnDrain = false
    /// A drain has started waiting for held requests.
    var draining = false
  }

  let size: UInt64
  var isReadOnly: Bool { false }
  var completionFD: Int32? { nil }
  var inFlight: Int { queue.count }
  private(set) var statistics = BlockStatistics()
  private let control = Mutex(Control())
  private let storage: UnsafeMutableRawBufferPointer
  private var queue: [(request: BlockRequest, number: Int)] = []

  init(size: UInt64) {
    self.size = size
    storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(size), alignment: 4096)
    storage.initializeMemory(as: UInt8.self, repeating: 0)
    queue.reserveCapacity(1024)
  }

  deinit { storage.deallocate() }

  // MARK: test thread

  var snapshot: Control { control.withLock { $0 } }

  func release(_ count: Int) { control.withLock { $0.released += count } }

  func releaseAll() { control.withLock { $0.released = Int.max } }

  func setReleaseOnDrain(_ on: Bool) { control.withLock { $0.releaseOnDrain = on } }

  // MARK: reactor thread (BlockBackend)

  func enqueue(_ request: BlockRequest) {
    let number = control.withLock { state in
      defer { state.arrived += 1 }
      return state.arrived
    }
    statistics.submitted &+= 1
    queue.append((request, number))
  }

  func submit() { statistics.submitCalls &+= 1 }

  @discardableResult
  func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    let released = control.withLock { $0.released }
    var done = 0
    while let first = queue.first, first.number < released {
      queue.removeFirst()
      let errno = perform(first.request)
      statistics.completed &+= 1
      done += 1
      control.withLock { $0.completed += 1 }
      deliver(BlockCompletion(tag: first.request.tag, errno: errno))
    }
    return done
  }

  /// Blocks until the test releases every queued request (or, with
  /// `releaseOnDrain`, releases them itself). Gives up after 10 s with EIO
  /// so a broken test fails instead of hanging.
  func drain(_ deliver: (BlockCompletion) -> Void) {
    let start = Self.seconds()
    while !queue.isEmpty {
      control.withLock { state in
        state.draining = true
        if state.releaseOnDrain { state.released = Int.max }
      }
      reap(deliver)
      guard !queue.isEmpty else { break }
      if Self.seconds() - start > 10 {
        for entry in queue { deliver(BlockCompletion(tag: entry.request.tag, errno: EIO)) }
        queue.removeAll()
        break
      }
      usleep(1000)
    }
    control.withLock { $0.draining = false }
  }

  func close() { queue.removeAll() }

  private func perform(_ request: BlockRequest) -> Int32 {
    switch request.operation {
    case .read, .write:
      var offset = request.offset
      for vector in request.iovecs {
        let length = UInt64(vector.iov_len)
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size, let base = vector.iov_base, let store = storage.baseAddress
        else { return EIO }
        if request.operation == .write {
          (store + Int(offset)).copyMemory(from: base, byteCount: vector.iov_len)
        } else {
          base.copyMemory(from: store + Int(offset), byteCount: vector.iov_len)
        }
        offset = end
      }
      return 0
    case .flush, .discard, .writeZeroes:
      return 0
    }
  }

  private static func seconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
  }
}
