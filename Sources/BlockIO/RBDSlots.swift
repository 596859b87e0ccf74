import BackendContract
import Glibc

/// Which librbd call a request's slot makes next. Most requests make one;
/// a FUA write adds a flush, a copy alternates reads and writes of chunks.
enum RBDStep {
  case transfer, flush, discard, writeZeroes
  case flushAfterWrite
  case copyRead, copyWrite
}

/// A request's state while it holds a slot of an `RBDBackend`.
struct RBDSlot {
  var tag: UInt64 = 0
  var operation: BlockOperation = .read
  var step = RBDStep.transfer
  var offset: UInt64 = 0
  var length: UInt64 = 0
  var iovecs = UnsafeMutableBufferPointer<iovec>(start: nil, count: 0)
  var forceUnitAccess = false
  /// A bounce buffer (more vectors than one librbd call takes) or a copy's
  /// chunk buffer.
  var buffer: UnsafeMutableRawBufferPointer?
  /// A copy's source, and the bytes of it written so far.
  var source: UInt64 = 0
  var copied: UInt64 = 0
  /// A copy whose destination overlaps the source from above goes from the
  /// end down, as memmove does.
  var backwards = false
  /// The result of a request finished without (or before) librbd.
  var errno: Int32 = 0
}

/// Preallocated slots handed out from a free list, so the I/O path never
/// allocates; a slot's index travels through librbd as the completion's
/// argument.
final class RBDSlotTable {
  let capacity: Int
  private let slots: UnsafeMutablePointer<RBDSlot>
  private let freeList: UnsafeMutablePointer<Int32>
  private(set) var freeCount: Int

  init(capacity: Int) {
    self.capacity = capacity
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: RBDSlot(), count: capacity)
    freeList = .allocate(capacity: capacity)
    for index in 0..<capacity { freeList[index] = Int32(capacity &- 1 &- index) }
    freeCount = capacity
  }

  deinit {
    slots.deinitialize(count: capacity)
    slots.deallocate()
    freeList.deallocate()
  }

  var used: Int { capacity &- freeCount }

  func acquire() -> Int32? {
    guard freeCount > 0 else { return nil }
    freeCount &-= 1
    return freeList[freeCount]
  }

  func release(_ index: Int32) {
    precondition(freeCount < capacity, "slot released twice")
    freeList[freeCount] = index
    freeCount &+= 1
  }

  func slot(_ index: Int32) -> UnsafeMutablePointer<RBDSlot> { slots + Int(index) }

  /// The completion argument naming slot `index` (offset by one: librbd
  /// hands back the pointer, and nil is no pointer at all).
  static func argument(_ index: Int32) -> UnsafeMutableRawPointer? {
    UnsafeMutableRawPointer(bitPattern: Int(index) &+ 1)
  }

  /// The slot an argument names; nil for one that is not ours.
  func index(of argument: UnsafeMutableRawPointer?) -> Int32? {
    let value = Int(bitPattern: argument) &- 1
    return value >= 0 && value < capacity ? Int32(value) : nil
  }
}
