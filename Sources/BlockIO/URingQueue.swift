import CURing
import Glibc
import POSIX

/// `KernelQueue` over io_uring (liburing): the image is registered as fixed
/// file 0 and the backend's eventfd for completions; submission entries are
/// filled at `submit`, so one io_uring_enter carries the reactor's whole turn.
/// The ring is restricted (IORING_REGISTER_RESTRICTIONS) to the five opcodes
/// below on that fixed file: a compromised server cannot use it for anything
/// else (opens, sockets), which seccomp could not see.
final class URingQueue: KernelQueue {
  private let ring: OpaquePointer
  private let capacity: Int
  /// Prepared requests not yet in the submission ring, oldest first.
  let queued: SlotRing
  /// Each slot's prepared request.
  let requests: UnsafeMutablePointer<KernelRequest>
  /// Entries filled into the ring that the kernel has not yet taken.
  private var unsubmitted = 0
  private let completions: UnsafeMutablePointer<curing_completion>
  private var closed = false

  /// Why a ring could not be set up: the step, and the errno.
  struct SetupError: Error {
    var stage: String
    var errno: Errno
    /// Set when the kernel lacks an opcode (the errno is then ENOSYS).
    var missingOpcode: String?
  }

  init(capacity: Int, fd: Int32, eventFD: Int32) throws(SetupError) {
    var error: Int32 = 0
    var stage: UnsafePointer<CChar>?
    var missing: UnsafePointer<CChar>?
    guard let ring = curing_create(UInt32(capacity), fd, eventFD, &error, &stage, &missing)
    else {
      throw SetupError(
        stage: stage.map { String(cString: $0) } ?? "setup", errno: Errno(error),
        missingOpcode: missing.map { String(cString: $0) })
    }
    self.ring = ring
    self.capacity = capacity
    queued = SlotRing(capacity: capacity)
    requests = .allocate(capacity: capacity)
    requests.initialize(repeating: KernelRequest(), count: capacity)
    completions = .allocate(capacity: capacity)
    completions.initialize(repeating: curing_completion(), count: capacity)
  }

  deinit {
    close()
    requests.deallocate()
    completions.deallocate()
  }

  func close() {
    guard !closed else { return }
    closed = true
    curing_destroy(ring)
  }

  func prepare(_ index: Int32, _ request: KernelRequest) {
    requests[Int(index)] = request
    queued.push(index)
  }

  func submit(_ refused: (Int32, Int32) -> Void) -> SubmitOutcome {
    var outcome = SubmitOutcome()
    // A ring the kernel clamped below the slot count may need several rounds.
    while !queued.isEmpty || unsubmitted > 0 {
      fillRing()
      let rc = Int(curing_submit(ring))
      outcome.calls &+= 1
      guard rc > 0 else {
        // EAGAIN or EBUSY (completions backed up): the entries stay in the
        // ring and go with the next submit.
        outcome.stalled = true
        return outcome
      }
      let taken = min(rc, unsubmitted)
      unsubmitted &-= taken
      outcome.taken &+= taken
      if unsubmitted > 0 {
        outcome.stalled = true
        return outcome
      }
    }
    return outcome
  }

  private func fillRing() {
    var space = Int(curing_sq_space(ring))
    while space > 0, let index = queued.pop() {
      let request = requests[Int(index)]
      var op = curing_op(
        opcode: request.kind.rawValue, rw_flags: Int32(bitPattern: request.rwFlags),
        address: UnsafeRawPointer(request.address),
        length: UInt32(truncatingIfNeeded: request.length),
        offset: UInt64(bitPattern: request.offset), user_data: UInt64(index))
      guard curing_prepare(ring, &op) == 0 else {
        // No entry after all: put it back at the end (order does not matter
        // to NVMe) and submit what was filled.
        queued.push(index)
        return
      }
      unsubmitted &+= 1
      space &-= 1
    }
  }

  func reap(_ body: (Int32, Int) -> Void) -> Int {
    let got = Int(curing_reap(ring, completions, UInt32(capacity)))
    for position in 0..<got {
      let completion = completions[position]
      guard completion.user_data < UInt64(capacity) else { continue }
      body(Int32(completion.user_data), Int(completion.result))
    }
    return got
  }

  func abandonQueued(_ body: (Int32) -> Void) {
    while let index = queued.pop() { body(index) }
  }
}
