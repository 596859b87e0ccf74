import Glibc

/// How a `FileBackend` talks to the kernel: libaio (the default) or io_uring.
/// Everything else (slots, bounces, FUA and flush fallbacks, the helper thread)
/// is the backend's and the same for both.
public enum FileEngine: String, Sendable, Hashable, CaseIterable {
  case libaio
  case ioUring = "io_uring"
}

/// One transfer or flush for the kernel. `address` is an iovec array for the
/// vectored kinds and a buffer for the plain ones; `length` counts vectors or
/// bytes accordingly.
struct KernelRequest {
  // The same numbers as CURing's curing_opcode.
  enum Kind: Int32 {
    case readv = 0
    case writev = 1
    case read = 2
    case write = 3
    case dataSync = 4
  }

  var kind = Kind.read
  var address: UnsafeMutableRawPointer?
  var length = 0
  var offset: Int64 = 0
  /// RWF_* for the transfers (RWF_DSYNC for a FUA write).
  var rwFlags: UInt32 = 0
}

/// What one `submit` did.
struct SubmitOutcome {
  /// Requests the kernel took.
  var taken = 0
  /// System calls made.
  var calls = 0
  /// Requests are left queued because the kernel said try later (EAGAIN).
  var stalled = false
}

/// A kernel submission and completion queue for one image, addressed by slot
/// index. Driven by the backend's (one) thread only.
protocol KernelQueue: AnyObject {
  /// Queues `request` for slot `index` until the next `submit`. The memory it
  /// points at (and an iovec array itself) must stay valid until then.
  func prepare(_ index: Int32, _ request: KernelRequest)
  /// Hands everything queued to the kernel. A request the kernel refuses at
  /// once (libaio does that; io_uring completes it with the error instead) is
  /// dequeued and given to `refused` with the errno; `refused` may prepare it
  /// again.
  func submit(_ refused: (Int32, Int32) -> Void) -> SubmitOutcome
  /// Delivers finished requests (slot, result: bytes or -errno) without
  /// blocking; returns how many.
  func reap(_ body: (Int32, Int) -> Void) -> Int
  /// Gives up on everything queued and not yet taken by the kernel.
  func abandonQueued(_ body: (Int32) -> Void)
  /// Releases the kernel's side; only with nothing in flight.
  func close()
}

/// A negative kernel result as the errno it carries (out of range: EIO).
func kernelErrno(_ result: Int) -> Int32 {
  result >= -4095 ? Int32(truncatingIfNeeded: 0 &- result) : EIO
}
