import Glibc

/// What an I/O command does once its backend requests finish.
enum IOKind: Sendable {
  case read, write, compare, verify, flush, writeZeroes, deallocate
}

/// One command handed to a backend, from fetch to completion. Plain values
/// only, so copying one in and out of the table costs no reference counting
/// (the guest's segments of a bounced command live beside it in the table).
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
  /// Controller-owned buffer for compare/verify and for guest memory that is
  /// not fd-mapped; nil on the zero-copy path.
  var bounce: UnsafeMutableRawBufferPointer?
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
  /// The guest's segments of a command whose data goes through its bounce
  /// buffer (a read into memory without a host mapping, a Compare); empty
  /// otherwise.
  @exclusivity(unchecked) private var bounceSegments: [[DataSegment]] = []
  @exclusivity(unchecked) private var free: [Int] = []
  @exclusivity(unchecked) private(set) var active = 0

  deinit { releaseAll() }

  func allocate() -> Int {
    active &+= 1
    if let slot = free.popLast() { return slot }
    contexts.append(IOContext())
    bounceSegments.append([])
    iovecStorage.append(UnsafeMutablePointer<iovec>.allocate(capacity: Self.maxIovecs))
    return contexts.count - 1
  }

  func iovecs(_ slot: Int) -> UnsafeMutablePointer<iovec> { iovecStorage[slot] }

  subscript(slot: Int) -> IOContext {
    get { contexts[slot] }
    set { contexts[slot] = newValue }
  }

  /// Keeps `segments` with `slot` until `takeSegments`, `vacate` or `release`.
  func setSegments(_ slot: Int, _ segments: [DataSegment]) {
    guard slot >= 0, slot < bounceSegments.count else { return }
    bounceSegments[slot] = segments
  }

  /// The segments kept with `slot`, handed to the caller.
  func takeSegments(_ slot: Int) -> [DataSegment] {
    guard slot >= 0, slot < bounceSegments.count, !bounceSegments[slot].isEmpty else { return [] }
    let segments = bounceSegments[slot]
    bounceSegments[slot] = []
    return segments
  }

  func isLive(_ slot: Int) -> Bool {
    slot >= 0 && slot < contexts.count && contexts[slot].pendingParts > 0
  }

  func release(_ slot: Int) {
    guard slot >= 0, slot < contexts.count else { return }
    contexts[slot].bounce?.deallocate()
    vacate(slot)
  }

  /// Frees `slot` without its bounce buffer, which the caller now owns. A
  /// finished command leaves the table this way before its data is copied to
  /// the guest: that copy may be a DMA message exchange during which the
  /// client resets the device, and a reset releases every live slot (found
  /// by the vfio-stream fuzz target: the buffer was freed under the copy and
  /// the slot listed free twice).
  func vacate(_ slot: Int) {
    guard slot >= 0, slot < contexts.count else { return }
    contexts[slot] = IOContext()
    if !bounceSegments[slot].isEmpty { bounceSegments[slot] = [] }
    free.append(slot)
    active &-= 1
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
    free.removeAll()
  }
}
