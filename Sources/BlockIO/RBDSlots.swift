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

typealias RBDSlotTable = SlotTable<RBDSlot>

/// A slot's index travels through librbd as the completion's argument.
extension SlotTable<RBDSlot> {
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
