import Glibc
import POSIX

/// Why a run stopped before its time.
public enum RunStop: Sendable, Equatable {
  /// The server closed the vfio-user socket (it exited or was killed).
  case hangUp
  /// SIGINT or SIGTERM (the signal number).
  case signal(Int32)
}

/// Looks, at most every 50 ms, whether the server hung up the vfio-user
/// socket and whether a stop signal came: a polling host never touches the
/// socket while commands run (doorbells are stores, completions are in its
/// own memory), so a dead server shows only here.
struct RunWatch {
  static let intervalNanoseconds: UInt64 = 50_000_000

  private let socket: FileDescriptor
  private let signals: SignalFD?
  private var nextCheck: UInt64 = 0
  private(set) var stop: RunStop?

  /// `socket` and `signals` are borrowed: they outlive the run.
  init(socket: FileDescriptor, signals: SignalFD?) {
    self.socket = socket
    self.signals = signals
  }

  /// The stop, once one was seen; looks again only after the interval.
  mutating func check(now: UInt64) -> RunStop? {
    if let stop { return stop }
    guard now >= nextCheck else { return nil }
    nextCheck = now &+ Self.intervalNanoseconds
    return checkNow()
  }

  /// Looks now.
  mutating func checkNow() -> RunStop? {
    if let stop { return stop }
    if let signo = signals?.next() {
      stop = .signal(signo)
    } else if Self.hungUp(socket) {
      stop = .hangUp
    }
    return stop
  }

  /// POLLHUP or POLLERR on the socket (poll reports both unasked); data
  /// waiting to be read is not a hang-up.
  static func hungUp(_ socket: FileDescriptor) -> Bool {
    guard let events = try? socket.poll(for: [], timeout: .immediate) else { return true }
    return !events.intersection([.hangUp, .error, .invalid]).isEmpty
  }
}
