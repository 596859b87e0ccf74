import CShims
import Glibc

/// What a descriptor is waited for, and what `poll` found (poll(2)'s `events`/`revents`).
public struct PollEvents: OptionSet, Sendable, Hashable {
  public let rawValue: Int16

  public init(rawValue: Int16) { self.rawValue = rawValue }

  public static let readable = PollEvents(rawValue: Int16(POLLIN))
  public static let writable = PollEvents(rawValue: Int16(POLLOUT))
  // The rest are only ever reported, never asked for.
  public static let error = PollEvents(rawValue: Int16(POLLERR))
  public static let hangUp = PollEvents(rawValue: Int16(POLLHUP))
  public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
}

/// How long a wait may last. Microseconds because the reactor's idle sleeps are
/// shorter than poll(2)'s millisecond granularity. A negative count waits forever,
/// as poll(2)'s does.
public enum PollTimeout: Sendable, Equatable {
  /// Look and return at once.
  case immediate
  case microseconds(Int)
  /// Until something is ready (ppoll with a NULL timeout).
  case forever

  public static func milliseconds(_ count: Int) -> PollTimeout {
    let (product, overflow) = count.multipliedReportingOverflow(by: 1000)
    return .microseconds(overflow ? (count < 0 ? -1 : .max) : product)
  }

  /// The C shim's encoding: negative waits forever.
  var shimMicroseconds: Int {
    switch self {
    case .immediate: 0
    case .microseconds(let count): max(-1, count)
    case .forever: -1
    }
  }
}

/// Descriptors to wait on together. The entries are kept between waits, so a hot
/// loop that refills the set each time allocates nothing once it has grown.
/// Descriptors are borrowed: they must stay open until the wait returns.
public struct PollSet {
  private var entries: [pollfd] = []

  public init(capacity: Int = 0) {
    entries.reserveCapacity(capacity)
  }

  public var count: Int { entries.count }
  public var isEmpty: Bool { entries.isEmpty }

  /// Empties the set, keeping its storage for the next fill.
  public mutating func removeAll() {
    entries.removeAll(keepingCapacity: true)
  }

  /// Adds `fd`; returns its index for `ready(at:)`.
  @discardableResult
  public mutating func append(_ fd: FileDescriptor, for events: PollEvents = .readable) -> Int {
    append(borrowing: fd.rawValue, for: events)
  }

  /// Adds a raw descriptor number someone else owns (a backend's completion eventfd).
  @discardableResult
  public mutating func append(borrowing rawFD: Int32, for events: PollEvents = .readable) -> Int {
    entries.append(pollfd(fd: rawFD, events: events.rawValue, revents: 0))
    return entries.count - 1
  }

  /// What the last wait found for entry `index` (empty before any wait).
  public func ready(at index: Int) -> PollEvents {
    guard index >= 0, index < entries.count else { return [] }
    return PollEvents(rawValue: entries[index].revents)
  }

  /// Waits until an entry is ready or `timeout` passes, retrying EINTR; returns how
  /// many entries are ready (0 on timeout).
  @discardableResult
  public mutating func wait(timeout: PollTimeout) throws(Errno) -> Int {
    for index in entries.indices { entries[index].revents = 0 }
    let microseconds = timeout.shimMicroseconds
    let ready = try syscall {
      entries.withUnsafeMutableBufferPointer { buffer in
        cshim_ppoll_us(buffer.baseAddress, UInt(buffer.count), microseconds)
      }
    }
    return Int(ready)
  }
}

extension FileDescriptor {
  /// Waits until this descriptor is ready for `events` (or errs or hangs up), retrying
  /// EINTR; returns what is ready, empty on timeout.
  public func poll(for events: PollEvents = .readable, timeout: PollTimeout) throws(Errno)
    -> PollEvents
  {
    var entry = pollfd(fd: rawValue, events: events.rawValue, revents: 0)
    let microseconds = timeout.shimMicroseconds
    _ = try syscall { cshim_ppoll_us(&entry, 1, microseconds) }
    return PollEvents(rawValue: entry.revents)
  }
}
