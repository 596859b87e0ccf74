import Glibc

/// What an I/O command does once its backend requests finish.
enum IOKind: Sendable {
  case read, write, compare, verify, flush, writeZeroes, deallocate, copy
}

/// One command handed to a backend, from fetch to completion. Plain values
/// only, so copying one in and out of the table costs no reference counting
/// (a bounced command's buffer and guest segments live beside it in the table).
struct IOContext {
  var submissionQueueID: UInt16 = 0
  var commandID: UInt16 = 0
  var namespaceID: UInt32 = 0
  var startingLBA: UInt64 = 0
  var kind: IOKind = .read
  /// Backend requests not yet completed.
  var pendingParts = 0
  /// First failure among the parts.
  var status: NVMeStatus = .success
  /// Data bytes moved (for statistics and SMART).
  var bytes: UInt64 = 0
  /// The namespace's counters for Read and Write (nil for the rest), unretained:
  /// a namespace is detached only once nothing is in flight for it.
  var counters: Unmanaged<NamespaceCounters>? = nil
  /// fineClock at fetch for a latency-sampled command, else 0.
  var fetchedAt: UInt64 = 0
}

/// Contexts indexed by tag, each with its own iovec array so the zero-copy
/// path allocates nothing per command once the table has grown to the
/// queue depth in use.
///
/// A class the controller holds in a `let`: as a struct in a controller
/// property, each of the several touches per command was a dynamic
/// exclusivity check (about 100 instructions each, callgrind). Its storage is
/// unchecked because every method here is a leaf: none calls out, so no
/// access can overlap another.
final class InFlightTable {
  static let maxIovecs = 256

  @exclusivity(unchecked) private var contexts: [IOContext] = []
  @exclusivity(unchecked) private var iovecStorage: [UnsafeMutablePointer<iovec>] = []
  /// Each slot's bounce buffer and its guest segments, owned by the table
  /// from `adopt` until `vacate` hands them on or `release` frees them.
  @exclusivity(unchecked) private var bounces: [UnsafeMutableRawBufferPointer?] = []
  @exclusivity(unchecked) private var bounceSegments: [[DataSegment]] = []
  @exclusivity(unchecked) private var free: [Int] = []
  @exclusivity(unchecked) private(set) var active = 0

  deinit { releaseAll() }

  func allocate() -> Int {
    active &+= 1
    if let slot = free.popLast() { return slot }
    contexts.append(IOContext())
    bounceSegments.append([])
    bounces.append(nil)
    iovecStorage.append(UnsafeMutablePointer<iovec>.allocate(capacity: Self.maxIovecs))
    return contexts.count - 1
  }

  func iovecs(_ slot: Int) -> UnsafeMutablePointer<iovec> { iovecStorage[slot] }

  subscript(slot: Int) -> IOContext {
    get { contexts[slot] }
    set { contexts[slot] = newValue }
  }

  /// Keeps `bounce` with `slot` until `vacate` or `release`.
  func adopt(_ bounce: consuming BounceBuffer, slot: Int) {
    guard slot >= 0, slot < bounces.count, bounces[slot] == nil else { return }
    let (bytes, segments) = bounce.release()
    bounces[slot] = bytes
    bounceSegments[slot] = segments
  }

  func isLive(_ slot: Int) -> Bool {
    slot >= 0 && slot < contexts.count && contexts[slot].pendingParts > 0
  }

  /// Frees `slot` and its bounce buffer.
  func release(_ slot: Int) {
    _ = vacate(slot)
  }

  /// Frees `slot` and hands its bounce buffer to the caller. A finished
  /// command leaves the table this way before its data is copied to the
  /// guest: that copy may be a DMA message exchange during which the client
  /// resets the device, and a reset releases every live slot (found by the
  /// vfio-stream fuzz target: the buffer was freed under the copy and the
  /// slot listed free twice).
  func vacate(_ slot: Int) -> BounceBuffer? {
    guard slot >= 0, slot < contexts.count else { return nil }
    contexts[slot] = IOContext()
    free.append(slot)
    active &-= 1
    guard let bytes = bounces[slot] else { return nil }
    let segments = bounceSegments[slot]
    bounces[slot] = nil
    bounceSegments[slot] = []
    return BounceBuffer(adopting: bytes, segments: segments)
  }

  /// After a reset drained every backend: forget whatever is left.
  func releaseAllContexts() {
    for slot in contexts.indices where contexts[slot].pendingParts > 0 {
      release(slot)
    }
  }

  func releaseAll() {
    releaseAllContexts()
    for pointer in iovecStorage { pointer.deallocate() }
    iovecStorage.removeAll()
    contexts.removeAll()
    bounceSegments.removeAll()
    bounces.removeAll()
    free.removeAll()
  }
}
