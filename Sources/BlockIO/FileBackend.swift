import BackendContract
import CShims
import Glibc
import POSIX

/// An image file or block device driven through Linux native aio (libaio) or
/// io_uring (`engine`), with O_DIRECT where the filesystem allows it: the
/// performance path.
///
/// Reads and writes go to the kernel as preadv/pwritev requests that point
/// straight at the request's iovecs (guest memory); only vectors O_DIRECT
/// cannot take go through a bounce buffer. Everything completes onto one
/// eventfd, `completionFD`. Calls that block (fdatasync when aio FDSYNC is
/// refused, hole punching, zeroing) run on a helper thread that reports
/// back through the same eventfd.
///
/// The image is locked with flock: exclusively when writable, shared when
/// read-only, so two servers cannot write one image.
public final class FileBackend: BlockBackend {
  public static let defaultQueueDepth = 1024

  public let path: String
  /// libaio or io_uring.
  public let engine: FileEngine
  // Read on every I/O's bounds check, written only by resize(to:) on the same
  // (reactor) thread between commands: no dynamic exclusivity check needed.
  @exclusivity(unchecked) public internal(set) var size: UInt64
  public let isReadOnly: Bool
  /// The image was opened with O_DIRECT (no page cache).
  public let isDirect: Bool
  public let isBlockDevice: Bool
  /// What O_DIRECT needs buffer addresses, lengths and offsets aligned to
  /// (the logical block size); 1 when buffered.
  public let alignment: Int
  /// Requests the kernel holds at most; more wait in the backend.
  public let queueDepth: Int
  /// Things the operator should hear about, e.g. "O_DIRECT not supported on
  /// disk.img; using buffered I/O".
  public let warnings: [String]
  // Borrowed for the reactor's poll: the backend keeps owning (and closes) the eventfd.
  public var completionFD: Int32? { eventFD.rawValue }
  public var inFlight: Int { table.used &+ backlog.count }
  /// Plain counters, read or assigned whole: no dynamic exclusivity check
  /// (its cost is per request; see `NVMeController` in NVMe).
  @exclusivity(unchecked) public internal(set) var statistics = BlockStatistics()

  let fd: FileDescriptor
  let eventFD: FileDescriptor
  /// The kernel's queue: libaio or io_uring.
  let kernel: any KernelQueue
  let table: SlotTable<Slot>
  /// Requests finished before reaching the kernel, waiting for `reap`.
  let ready: SlotRing
  /// The eventfd was bumped for `ready` since the last reap.
  var readySignaled = false
  var kernelInFlight = 0
  /// The last submit left work queued (EAGAIN).
  var submitStalled = false
  /// Requests that found every slot taken.
  var backlog: RequestBacklog
  let bounces: BouncePool
  var worker: SyncWorker?
  /// Jobs for the helper thread, handed over on submit.
  var workerJobs: [SyncWorker.Job] = []
  var workerResults: [SyncWorker.Result] = []
  var workerOutstanding = 0
  var closed = false

  /// How flushes reach the disk; learned on the first flush.
  enum FlushMode { case unknown, kernel, helper }
  /// How FUA writes become durable; learned on the first FUA write.
  enum FUAMode { case unknown, dataSyncFlag, syncAfterWrite }
  /// Internal so tests can force the fallbacks.
  var flushMode = FlushMode.unknown
  var fuaMode = FUAMode.unknown
  /// Whether the helper may try these fallocate modes (tests turn them off);
  /// read when the helper starts.
  var allowPunchHole = true
  var allowZeroRange = true

  /// Opens (or creates) an image.
  /// - Parameters:
  ///   - createSize: when `path` does not exist, create it sparse with this
  ///     size; nil makes a missing file an error. An existing file keeps its
  ///     size (a differing request is reported in `warnings`).
  ///   - blockSize: the namespace's block size; the image size must be a
  ///     multiple of it, and O_DIRECT is used only when its alignment is no
  ///     coarser.
  ///   - directIO: false opens buffered from the start.
  ///   - engine: libaio, or io_uring (an error when the kernel lacks it).
  public convenience init(
    path: String, createSize: UInt64? = nil, readOnly: Bool = false, blockSize: Int = 512,
    queueDepth: Int = FileBackend.defaultQueueDepth, directIO: Bool = true,
    engine: FileEngine = .libaio
  ) throws(BlockIOError) {
    try self.init(
      path: path, createSize: createSize, readOnly: readOnly, blockSize: blockSize,
      queueDepth: queueDepth, directIO: directIO, engine: engine,
      opener: { Glibc.open($0, $1, $2) })
  }

  init(
    path: String, createSize: UInt64?, readOnly: Bool, blockSize: Int, queueDepth: Int,
    directIO: Bool, engine: FileEngine, opener: BackingFile.Opener
  ) throws(BlockIOError) {
    try BackendFactory.checkBlockSize(blockSize)
    guard queueDepth > 0, queueDepth <= 65536 else {
      throw .invalid("queue depth \(queueDepth)", "not between 1 and 65536")
    }
    if let createSize { try BackendFactory.checkMultiple(createSize, of: blockSize, subject: path) }
    let file = try BackingFile.open(
      path: path, createSize: createSize, readOnly: readOnly, blockSize: blockSize,
      direct: directIO, opener: opener)
    try BackendFactory.checkMultiple(file.size, of: blockSize, subject: path)
    guard file.size <= UInt64(Int64.max) else { throw .invalid(path, "too large") }

    let eventFD: FileDescriptor
    do throws(Errno) {
      eventFD = try EventFD.create()
    } catch {
      throw .system("\(path): eventfd", errno: error)
    }
    let kernel = try Self.kernelQueue(
      engine, path: path, depth: queueDepth, fd: file.fd.rawValue, eventFD: eventFD.rawValue)

    self.path = path
    self.engine = engine
    self.kernel = kernel
    self.size = file.size
    self.isReadOnly = readOnly
    self.isDirect = file.isDirect
    self.isBlockDevice = file.isBlockDevice
    self.alignment = file.alignment
    self.queueDepth = queueDepth
    self.warnings = file.warnings
    self.fd = file.fd
    self.eventFD = eventFD
    table = SlotTable(capacity: queueDepth, empty: Slot())
    self.ready = SlotRing(capacity: queueDepth)
    bounces = BouncePool(alignment: file.alignment)
    backlog = RequestBacklog(capacity: queueDepth)
    workerJobs.reserveCapacity(queueDepth)
    workerResults.reserveCapacity(queueDepth)
  }

  deinit { close() }

  /// Drains, then releases the kernel queue, the helper thread, the
  /// descriptors and with them the lock.
  public func close() {
    guard !closed else { return }
    drain { _ in }
    closed = true
    worker?.stop()
    worker = nil
    kernel.close()
    eventFD.close()
    fd.close()
  }
}
