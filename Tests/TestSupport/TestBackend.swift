import BackendContract
import BlockIO
import Glibc
import POSIX
import Synchronization

/// The one test double for a store that misbehaves: it wraps a real backend
/// (a `MemoryBackend` by default) and can record, fail or hold requests.
/// - Recording: every request, so tests see FUA, flushes and discards, which
///   leave no trace in the bytes.
/// - Failing: `fails` (rules a test thread may change) or `injectedErrno`
///   picks an errno; the request then does nothing and completes with it, as
///   a failing disk's would.
/// - Holding: `holding` makes `reap` deliver nothing while `drain` still
///   delivers everything, so resets and deletes never hang. A `gated` backend
///   instead keeps each request until the test thread releases it, and only
///   then passes it to the store: data moves at completion time, so the
///   iovecs (guest memory) must still be mapped then.
///
/// `@unchecked Sendable`: the `BlockBackend` methods run on the reactor thread
/// only; the test thread touches nothing but the gate, which a Mutex guards.
public final class TestBackend: BlockBackend, @unchecked Sendable {
  public struct Record: Equatable, Sendable {
    public var operation: BlockOperation
    public var offset: UInt64
    public var length: UInt64
    public var forceUnitAccess: Bool
  }

  /// A gated backend's progress, as the test thread sees it.
  public struct Gate: Sendable {
    /// Requests enqueued so far (numbered from 0 in arrival order).
    public var arrived = 0
    /// Requests numbered below this may complete.
    public var released = 0
    /// Requests completed so far.
    public var completed = 0
    /// A drain (reset, DMA unmap) releases everything instead of waiting.
    public var releaseOnDrain = false
    /// A drain has started waiting for held requests.
    public var draining = false
  }

  /// How long a drain waits for a gated request before failing it with EIO,
  /// so a broken test fails instead of hanging.
  static let drainPatienceNanoseconds: UInt64 = 10_000_000_000

  public let inner: any BlockBackend
  public private(set) var records: [Record] = []
  /// Non-zero: new requests complete with this errno and do nothing.
  public var injectedErrno: Int32 = 0
  /// True: `reap` delivers nothing (requests stay in flight).
  public var holding = false
  private let fails: (@Sendable (BlockRequest) -> Int32?)?
  private let gated: Bool
  /// False: stands for a store across the network (RBD), not worth spinning for.
  public let spinsForCompletions: Bool
  private let gate = Mutex(Gate())
  private var held: [(request: BlockRequest, number: Int)] = []
  private var failed: [BlockCompletion] = []

  public init(
    _ inner: any BlockBackend, gated: Bool = false, spinsForCompletions: Bool = true,
    fails: (@Sendable (BlockRequest) -> Int32?)? = nil
  ) {
    self.inner = inner
    self.gated = gated
    self.spinsForCompletions = spinsForCompletions
    self.fails = fails
  }

  /// Over a zero-filled `MemoryBackend` of `size` bytes.
  public convenience init?(
    size: UInt64, gated: Bool = false, spinsForCompletions: Bool = true,
    fails: (@Sendable (BlockRequest) -> Int32?)? = nil
  ) {
    guard let memory = MemoryBackend(size: size) else { return nil }
    self.init(memory, gated: gated, spinsForCompletions: spinsForCompletions, fails: fails)
  }

  public var size: UInt64 { inner.size }
  public var isReadOnly: Bool { inner.isReadOnly }
  public var completionFD: Int32? { nil }
  public var inFlight: Int { inner.inFlight + failed.count + held.count }
  public var statistics: BlockStatistics { inner.statistics }

  public func operations(_ operation: BlockOperation) -> [Record] {
    records.filter { $0.operation == operation }
  }

  // MARK: test thread

  public var snapshot: Gate { gate.withLock { $0 } }

  public func release(_ count: Int) { gate.withLock { $0.released += count } }

  public func releaseAll() { gate.withLock { $0.released = Int.max } }

  public func setReleaseOnDrain(_ on: Bool) { gate.withLock { $0.releaseOnDrain = on } }

  // MARK: reactor thread (BlockBackend)

  public func enqueue(_ request: BlockRequest) {
    records.append(
      Record(
        operation: request.operation, offset: request.offset, length: request.length,
        forceUnitAccess: request.forceUnitAccess))
    if let errno = fails?(request) ?? (injectedErrno != 0 ? injectedErrno : nil) {
      failed.append(BlockCompletion(tag: request.tag, errno: errno))
    } else if gated {
      let number = gate.withLock { gate in
        defer { gate.arrived += 1 }
        return gate.arrived
      }
      held.append((request, number))
    } else {
      inner.enqueue(request)
    }
  }

  public func submit() { inner.submit() }

  @discardableResult
  public func reap(_ deliver: (BlockCompletion) -> Void) -> Int {
    guard !holding else { return 0 }
    let injected = deliverInjected(deliver)
    guard gated else { return injected + inner.reap(deliver) }
    forwardReleased()
    return injected
      + inner.reap { completion in
        gate.withLock { $0.completed += 1 }
        deliver(completion)
      }
  }

  public func drain(_ deliver: (BlockCompletion) -> Void) {
    _ = deliverInjected(deliver)
    guard gated else { return inner.drain(deliver) }
    drainHeld(deliver)
    inner.drain { completion in
      gate.withLock { $0.completed += 1 }
      deliver(completion)
    }
  }

  public func close() {
    held.removeAll()
    inner.close()
  }

  private func deliverInjected(_ deliver: (BlockCompletion) -> Void) -> Int {
    let injected = failed
    failed.removeAll()
    for completion in injected { deliver(completion) }
    return injected.count
  }

  /// Passes the released requests, in arrival order, to the store.
  private func forwardReleased() {
    let released = gate.withLock { $0.released }
    var forwarded = false
    while let first = held.first, first.number < released {
      held.removeFirst()
      inner.enqueue(first.request)
      forwarded = true
    }
    if forwarded { inner.submit() }
  }

  /// Waits until the test releases every held request (or, with
  /// `releaseOnDrain`, releases them itself).
  private func drainHeld(_ deliver: (BlockCompletion) -> Void) {
    let start = MonotonicClock.nanoseconds()
    while !held.isEmpty {
      gate.withLock { gate in
        gate.draining = true
        if gate.releaseOnDrain { gate.released = Int.max }
      }
      forwardReleased()
      guard !held.isEmpty else { break }
      if MonotonicClock.nanoseconds() &- start > Self.drainPatienceNanoseconds {
        for entry in held { deliver(BlockCompletion(tag: entry.request.tag, errno: EIO)) }
        held.removeAll()
        break
      }
      usleep(1000)
    }
    gate.withLock { $0.draining = false }
  }
}

extension TestBackend {
  public func resize(to bytes: UInt64) throws(BackendError) { try inner.resize(to: bytes) }
  public func holdsData(from offset: UInt64) -> Bool { inner.holdsData(from: offset) }
}
