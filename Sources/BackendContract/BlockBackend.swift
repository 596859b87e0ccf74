import Glibc

/// What a block request asks the store to do. Offsets and lengths are bytes;
/// the NVMe layer converts LBAs (with overflow checks) before it gets here.
public enum BlockOperation: Sendable, Hashable {
  case read
  case write
  /// Make every completed write durable (fdatasync).
  case flush
  /// Deallocate `[offset, offset + length)`: later reads return zeroes.
  case discard
  /// Write zeroes over `[offset, offset + length)`, deallocating where cheap.
  case writeZeroes
  /// Copy `[source, source + length)` to `[offset, offset + length)` inside
  /// the store, as if read whole and then written (overlap is allowed).
  /// With `forceUnitAccess` the destination is durable when it completes.
  case copy(source: UInt64)
}

/// One request. For `.read` and `.write`, `iovecs` point straight into guest
/// memory (zero copy) and stay valid until the request's completion has been
/// reaped; the backend must not touch them after that. The other operations
/// ignore `iovecs` and use `length`. Every backend does `.copy` itself (the
/// controller never bounces a copy through guest-visible buffers).
public struct BlockRequest {
  public var operation: BlockOperation
  public var offset: UInt64
  public var length: UInt64
  public var iovecs: UnsafeMutableBufferPointer<iovec>
  /// Force Unit Access: the write is durable when it completes.
  public var forceUnitAccess: Bool
  /// The caller's token, handed back in the completion.
  public var tag: UInt64

  public init(
    operation: BlockOperation, offset: UInt64, length: UInt64,
    iovecs: UnsafeMutableBufferPointer<iovec> = UnsafeMutableBufferPointer(start: nil, count: 0),
    forceUnitAccess: Bool = false, tag: UInt64
  ) {
    self.operation = operation
    self.offset = offset
    self.length = length
    self.iovecs = iovecs
    self.forceUnitAccess = forceUnitAccess
    self.tag = tag
  }
}

/// A finished request: `errno` is 0 on success, else the positive errno the
/// store reported (EIO, ENOSPC, ...). A short read is reported as EIO; the
/// rest of a short write is sent again, so the write ends with what the
/// store says about that rest (a full filesystem: ENOSPC).
public struct BlockCompletion: Sendable, Hashable {
  public var tag: UInt64
  public var errno: Int32

  public init(tag: UInt64, errno: Int32 = 0) {
    self.tag = tag
    self.errno = errno
  }

  public var succeeded: Bool { errno == 0 }
}

/// Counters a backend keeps for the server's statistics.
public struct BlockStatistics: Sendable, Hashable {
  public var submitted: UInt64 = 0
  public var completed: UInt64 = 0
  public var failed: UInt64 = 0
  public var bytesRead: UInt64 = 0
  public var bytesWritten: UInt64 = 0
  /// Requests that went through a bounce buffer because O_DIRECT could not
  /// take their addresses or lengths as they were.
  public var bounced: UInt64 = 0
  /// io_submit (or equivalent) calls.
  public var submitCalls: UInt64 = 0

  public init() {}
}

/// A namespace's store. Driven by one reactor thread only: none of these
/// methods may be called concurrently, and completions are delivered only
/// from `reap` and `drain`, on the caller's thread.
///
/// Requests are queued with `enqueue` and handed to the kernel together by
/// `submit` (one io_submit per reactor turn). A request that fails before it
/// reaches the kernel still completes through `reap`, never by a throw, so
/// the caller has exactly one completion path.
public protocol BlockBackend: AnyObject {
  /// Capacity in bytes.
  var size: UInt64 { get }
  var isReadOnly: Bool { get }
  /// Readable (as an eventfd) when completions are waiting; nil when this
  /// backend completes everything by the next `reap` without a wakeup.
  /// Borrowed: the backend owns the descriptor and closes it in `close`, so
  /// callers only poll it and must stop before then.
  var completionFD: Int32? { get }
  /// Whether an adaptive reactor should keep spinning while this backend
  /// holds requests. False for a store whose completions come over the
  /// network (RBD): spinning cannot hasten them, and it takes the CPU the
  /// client library's own threads need; `completionFD` wakes the reactor.
  var spinsForCompletions: Bool { get }
  /// Requests enqueued or submitted and not yet reaped.
  var inFlight: Int { get }
  var statistics: BlockStatistics { get }

  func enqueue(_ request: BlockRequest)
  /// Hands every enqueued request to the store. Never blocks on I/O.
  func submit()
  /// Delivers finished requests without blocking; returns how many.
  @discardableResult
  func reap(_ deliver: (BlockCompletion) -> Void) -> Int
  /// Submits what is queued and blocks until nothing is in flight,
  /// delivering every completion. Used by reset, DMA unmap and shutdown.
  func drain(_ deliver: (BlockCompletion) -> Void)
  /// Releases the store (drains first). Further calls are not allowed.
  func close()
  /// Changes the capacity; growing reads back zeroes. Only with nothing in
  /// flight (the caller drains first).
  func resize(to bytes: UInt64) throws(BackendError)
  /// Whether any byte at or past `offset` may hold data (allocated or
  /// nonzero): shrinking there would discard what the guest wrote.
  func holdsData(from offset: UInt64) -> Bool
}

extension BlockBackend {
  /// Local stores complete within microseconds: spinning sees them first.
  public var spinsForCompletions: Bool { true }
}

/// A backend refused an operation; `errno` says why.
public struct BackendError: Error, Sendable, Equatable, CustomStringConvertible {
  public let errno: Int32
  public init(errno: Int32) { self.errno = errno }
  public var description: String { "errno \(errno)" }
}
