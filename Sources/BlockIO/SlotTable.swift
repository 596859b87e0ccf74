import BackendContract
import Glibc

/// A request's state while it owns a slot.
struct Slot {
  var tag: UInt64 = 0
  var operation: BlockOperation = .read
  /// Bytes a read or write must move; anything else is a short transfer.
  var length: UInt64 = 0
  /// Where in the file those bytes go.
  var offset: Int64 = 0
  /// Bytes of a write already in the file from earlier, short, submissions
  /// (the rest goes from `bounce` at this position).
  var written = 0
  /// The caller's vectors, for copying a bounced read back.
  var iovecs = UnsafeMutableBufferPointer<iovec>(start: nil, count: 0)
  var bounce: UnsafeMutableRawBufferPointer?
  /// What went to the kernel last (retried from here when a kernel feature
  /// turns out missing).
  var kernelRequest = KernelRequest()
  /// A FUA write carrying RWF_DSYNC.
  var usesDataSyncFlag = false
  /// A FUA write that needs an fdatasync after it (RWF_DSYNC unavailable).
  var syncAfterWrite = false
  /// The result of a request finished before it reached the kernel.
  var errno: Int32 = 0
}

/// Preallocated request state (`Slot` for files, `RBDSlot` for RBD), handed
/// out from a free list so the I/O path never allocates. Indices are `Int32`
/// to keep queues small; the kernel queues address their own per-request
/// state by the same index.
final class SlotTable<Element> {
  let capacity: Int
  private let slots: UnsafeMutablePointer<Element>
  private let freeList: UnsafeMutablePointer<Int32>
  private(set) var freeCount: Int

  init(capacity: Int, empty: Element) {
    self.capacity = capacity
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: empty, count: capacity)
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

  func slot(_ index: Int32) -> UnsafeMutablePointer<Element> { slots + Int(index) }
}

/// A fixed-capacity FIFO of slot indices. It never holds more than the
/// table's capacity, since every entry owns a distinct slot.
final class SlotRing {
  let capacity: Int
  private let storage: UnsafeMutablePointer<Int32>
  private var head = 0
  private(set) var count = 0

  init(capacity: Int) {
    self.capacity = capacity
    storage = .allocate(capacity: capacity)
  }

  deinit { storage.deallocate() }

  var isEmpty: Bool { count == 0 }

  func push(_ index: Int32) {
    precondition(count < capacity, "slot ring overflow")
    storage[(head &+ count) % capacity] = index
    count &+= 1
  }

  func pop() -> Int32? {
    guard count > 0 else { return nil }
    let index = storage[head]
    head = (head &+ 1) % capacity
    count &-= 1
    return index
  }

  /// The entry `position` places behind the head.
  func peek(_ position: Int) -> Int32 { storage[(head &+ position) % capacity] }

  func dropFirst(_ n: Int) {
    let n = min(n, count)
    head = (head &+ n) % capacity
    count &-= n
  }
}
