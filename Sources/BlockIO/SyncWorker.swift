import CShims
import Glibc
import POSIX

/// A helper thread for the calls that block: fdatasync (when the kernel
/// refuses aio FDSYNC, or after a FUA write without RWF_DSYNC), hole
/// punching, zeroing and copies (`SyncWorker+Copy.swift`). The reactor posts jobs and takes results; each
/// result also bumps `notifyFD` (the backend's completion eventfd) so the
/// reactor wakes up.
///
/// @unchecked Sendable: `jobs`, `results` and `stopping` are only touched
/// under `lock`; the fallocate modes and zero buffer only by the thread.
final class SyncWorker: @unchecked Sendable {
  enum Kind: Sendable {
    case dataSync, discard, writeZeroes
    /// `length` bytes from `source` to the job's offset; `durable`: then fdatasync.
    case copy(source: UInt64, durable: Bool)
  }

  struct Job: Sendable {
    var slot: Int32
    var kind: Kind
    var offset: UInt64
    var length: UInt64
  }

  struct Result: Sendable {
    var slot: Int32
    var errno: Int32
  }

  let fd: FileDescriptor
  private let notifyFD: FileDescriptor
  private let lock: UnsafeMutablePointer<pthread_mutex_t>
  private let wake: UnsafeMutablePointer<pthread_cond_t>
  private var jobs: [Job] = []
  private var results: [Result] = []
  private var stopping = false
  // The thread's own.
  private var batch: [Job] = []
  private var punchHole: Bool
  private var zeroRange: Bool
  private var zeroes: UnsafeMutableRawPointer?
  private static let zeroChunk = 1024 * 1024
  /// copy_file_range works on this file (cleared on the first refusal).
  var copyFileRange = true
  // The owner's own.
  private var thread: JoinableThread?

  init(
    fd: FileDescriptor, notifyFD: FileDescriptor, capacity: Int, punchHole: Bool, zeroRange: Bool
  ) {
    self.fd = fd
    self.notifyFD = notifyFD
    self.punchHole = punchHole
    self.zeroRange = zeroRange
    lock = .allocate(capacity: 1)
    pthread_mutex_init(lock, nil)
    wake = .allocate(capacity: 1)
    pthread_cond_init(wake, nil)
    jobs.reserveCapacity(capacity)
    results.reserveCapacity(capacity)
    batch.reserveCapacity(capacity)
  }

  deinit {
    pthread_cond_destroy(wake)
    wake.deallocate()
    pthread_mutex_destroy(lock)
    lock.deallocate()
    free(zeroes)
  }

  /// Starts the thread; 0 or the errno pthread_create reported.
  func start() -> Int32 {
    do {
      thread = try JoinableThread { self.run() }
      return 0
    } catch {
      return error.code
    }
  }

  /// Moves `newJobs` to the thread, leaving the array empty (capacity kept).
  func post(_ newJobs: inout [Job]) {
    pthread_mutex_lock(lock)
    jobs.append(contentsOf: newJobs)
    pthread_cond_signal(wake)
    pthread_mutex_unlock(lock)
    newJobs.removeAll(keepingCapacity: true)
  }

  /// Swaps finished results into `finished`, which must be empty.
  func takeResults(into finished: inout [Result]) {
    pthread_mutex_lock(lock)
    swap(&results, &finished)
    pthread_mutex_unlock(lock)
  }

  /// Finishes the queued jobs, then ends and joins the thread.
  func stop() {
    guard let thread else { return }
    pthread_mutex_lock(lock)
    stopping = true
    pthread_cond_signal(wake)
    pthread_mutex_unlock(lock)
    thread.join()
    self.thread = nil
  }

  private func run() {
    while true {
      pthread_mutex_lock(lock)
      while jobs.isEmpty && !stopping { pthread_cond_wait(wake, lock) }
      if jobs.isEmpty {
        pthread_mutex_unlock(lock)
        return
      }
      swap(&jobs, &batch)
      pthread_mutex_unlock(lock)
      for index in batch.indices {
        let job = batch[index]
        let result = Result(slot: job.slot, errno: perform(job))
        pthread_mutex_lock(lock)
        results.append(result)
        pthread_mutex_unlock(lock)
        EventFD.signal(notifyFD)
      }
      batch.removeAll(keepingCapacity: true)
    }
  }

  private func perform(_ job: Job) -> Int32 {
    switch job.kind {
    case .dataSync:
      return retryingEINTR({ fdatasync(fd.rawValue) }) == 0 ? 0 : errno
    case .discard:
      if let done = tryPunchHole(job) { return done }
      if let done = tryZeroRange(job) { return done }
    case .writeZeroes:
      if let done = tryZeroRange(job) { return done }
      // A hole reads back as zeroes too.
      if let done = tryPunchHole(job) { return done }
    case .copy(let source, let durable):
      let result = copy(from: source, to: job.offset, length: job.length)
      guard result == 0, durable else { return result }
      return retryingEINTR({ fdatasync(fd.rawValue) }) == 0 ? 0 : errno
    }
    return writeZeroes(job)
  }

  /// 0 or the errno; nil when the filesystem lacks hole punching.
  private func tryPunchHole(_ job: Job) -> Int32? {
    guard punchHole else { return nil }
    let result = fallocate(Linux.fallocatePunchHole | Linux.fallocateKeepSize, job)
    if result == EOPNOTSUPP || result == ENOSYS { punchHole = false }
    return punchHole ? result : nil
  }

  /// 0 or the errno; nil when the filesystem lacks FALLOC_FL_ZERO_RANGE.
  private func tryZeroRange(_ job: Job) -> Int32? {
    guard zeroRange else { return nil }
    let result = fallocate(Linux.fallocateZeroRange | Linux.fallocateKeepSize, job)
    if result == EOPNOTSUPP || result == ENOSYS { zeroRange = false }
    return zeroRange ? result : nil
  }

  private func fallocate(_ mode: Int32, _ job: Job) -> Int32 {
    // The backend checked offset + length against its size (<= Int64.max).
    let rc = retryingEINTR {
      cshim_fallocate(fd.rawValue, mode, Int64(job.offset), Int64(job.length))
    }
    return rc == 0 ? 0 : errno
  }

  /// The last resort: plain writes from a zeroed, O_DIRECT-aligned buffer.
  private func writeZeroes(_ job: Job) -> Int32 {
    if zeroes == nil {
      var raw: UnsafeMutableRawPointer?
      guard posix_memalign(&raw, 4096, Self.zeroChunk) == 0, let base = raw else { return ENOMEM }
      base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.zeroChunk)
      zeroes = base
    }
    var offset = job.offset
    var remaining = job.length
    while remaining > 0 {
      let chunk = Int(min(remaining, UInt64(Self.zeroChunk)))
      let written = retryingEINTR { pwrite(fd.rawValue, zeroes, chunk, off_t(offset)) }
      if written < 0 { return errno }
      if written == 0 { return EIO }
      offset &+= UInt64(written)
      remaining &-= UInt64(written)
    }
    return 0
  }
}
