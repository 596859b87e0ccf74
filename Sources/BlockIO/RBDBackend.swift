import BackendContract
import CRBD
import Glibc
import POSIX

/// A Ceph RBD image driven through librbd's asynchronous calls.
///
/// Reads and writes go to librbd straight from the request's iovecs (guest
/// memory): RBD has no alignment rules, so only a request with more vectors
/// than one call takes is bounced. librbd finishes requests on its own
/// threads; with the image's event notification on, it queues each finished
/// completion inside the image and bumps one eventfd (`completionFD`), and
/// `reap` collects them with rbd_poll_io_events on the caller's thread. No
/// code of ours runs on librbd's threads and the I/O path takes no lock of
/// ours.
///
/// A writable image holds RBD's exclusive lock while it is open, so a second
/// server (or any librbd client) cannot write it meanwhile. Every monitor and
/// OSD operation is bounded by the open's timeout: with the cluster gone,
/// requests fail with ETIMEDOUT instead of hanging the namespace.
public final class RBDBackend: BlockBackend {
  /// Seconds to reach the cluster and for each operation on it.
  public static let defaultTimeout = 5
  public static let defaultQueueDepth = 1024
  /// The most a copy moves per read and write.
  static let copyChunk = 1 << 20
  /// The most iovecs one librbd call takes (IOV_MAX).
  static let maxIOVecs = 1024

  public let spec: RBDSpec
  // Read on every I/O's bounds check, written only by resize(to:) on the same
  // (reactor) thread between commands: no dynamic exclusivity check needed.
  @exclusivity(unchecked) public internal(set) var size: UInt64
  public let isReadOnly: Bool
  /// Requests librbd holds at most; more wait in the backend.
  public let queueDepth: Int
  // Borrowed for the reactor's poll: the backend keeps owning (and closes) the eventfd.
  public var completionFD: Int32? { eventFD.rawValue }
  /// A round trip to an OSD takes hundreds of microseconds on librbd's threads.
  public var spinsForCompletions: Bool { false }
  public var inFlight: Int { table.used &+ backlog.count }
  /// Plain counters, read or assigned whole: no dynamic exclusivity check
  /// (its cost is per request; see `NVMeController` in NVMe).
  @exclusivity(unchecked) public internal(set) var statistics = BlockStatistics()

  let connection: RBDConnection
  var image: rbd_image_t { connection.image }
  let eventFD: FileDescriptor
  let table: RBDSlotTable
  /// Slots prepared by `enqueue`, issued by the next `submit`.
  let pending: SlotRing
  /// Requests finished without librbd, waiting for `reap`.
  let ready: SlotRing
  /// The eventfd was bumped for `ready` since the last reap.
  var readySignaled = false
  /// rbd_poll_io_events's output array.
  let events: UnsafeMutablePointer<rbd_completion_t?>
  /// Completions librbd owes us.
  var librbdInFlight = 0
  /// Requests that found every slot taken.
  var backlog: RequestBacklog
  let buffers = BouncePool(alignment: 4096, retainLimit: 8 << 20)
  var closed = false

  /// Connects to the cluster and opens `spec`'s image: read-only when
  /// `readOnly` or a snapshot is named, else writable and exclusively locked.
  /// - Parameter timeout: seconds (1 to 3600) to reach the cluster and for
  ///   every operation on it afterwards.
  public init(
    spec: RBDSpec, readOnly: Bool = false, timeout: Int = RBDBackend.defaultTimeout,
    queueDepth: Int = RBDBackend.defaultQueueDepth
  ) throws(BlockIOError) {
    guard timeout >= 1, timeout <= 3600 else {
      throw .invalid("rbd timeout \(timeout)", "not between 1 and 3600 seconds")
    }
    guard queueDepth > 0, queueDepth <= 65536 else {
      throw .invalid("queue depth \(queueDepth)", "not between 1 and 65536")
    }
    let eventFD: FileDescriptor
    do throws(Errno) {
      eventFD = try EventFD.create()
    } catch {
      throw .system("\(spec.name): eventfd", errno: error)
    }
    let connection = try RBDConnection.open(spec, readOnly: readOnly, timeout: timeout)
    var imageSize: UInt64 = 0
    var rc = rbd_get_size(connection.image, &imageSize)
    if rc == 0 {
      rc = rbd_set_image_notification(
        connection.image, eventFD.rawValue, Int32(EVENT_TYPE_EVENTFD))
    }
    guard rc == 0, imageSize <= UInt64(Int64.max) else {
      connection.close()
      let errno = Errno(rc < 0 && rc > -4096 ? -rc : EFBIG)
      throw BlockIOError(
        subject: spec.name, errno: errno, reason: "cannot set the image up: \(errno.text)")
    }

    self.spec = spec
    self.size = imageSize
    self.isReadOnly = readOnly || spec.snap != nil
    self.queueDepth = queueDepth
    self.connection = connection
    self.eventFD = eventFD
    table = RBDSlotTable(capacity: queueDepth, empty: RBDSlot())
    pending = SlotRing(capacity: queueDepth)
    ready = SlotRing(capacity: queueDepth)
    events = .allocate(capacity: queueDepth)
    events.initialize(repeating: nil, count: queueDepth)
    backlog = RequestBacklog(capacity: queueDepth)
  }

  deinit {
    close()
    events.deallocate()
  }

  /// Drains, then closes the image (giving up its lock), the pool context,
  /// the cluster connection and the eventfd.
  public func close() {
    guard !closed else { return }
    drain { _ in }
    closed = true
    connection.close()
    eventFD.close()
  }
}
