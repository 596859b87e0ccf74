import Dispatch
import POSIX
import Synchronization

/// How another thread (the control socket's) gets work done on the reactor,
/// which alone may touch the controller: it posts a job and waits for the
/// answer. Posting takes a lock the reactor takes only when the mailbox's
/// eventfd says jobs wait, so the I/O path pays nothing.
public final class ReactorMailbox: Sendable {
  /// Runs on the reactor thread, with the runner that owns the controller.
  public typealias Job = @Sendable (ServerRunner) -> Void

  /// Readable while jobs wait; the reactor polls it with its other wakeups.
  public let wakeup: FileDescriptor
  private let jobs = Mutex<[Job]>([])

  public init() throws(Errno) {
    wakeup = try EventFD.create()
  }

  public func post(_ job: @escaping Job) {
    jobs.withLock { $0.append(job) }
    _ = EventFD.signal(wakeup)
  }

  /// Runs every waiting job (reactor thread).
  func runJobs(_ runner: ServerRunner) {
    _ = EventFD.drain(wakeup)
    let waiting = jobs.withLock { queued -> [Job] in
      let taken = queued
      queued.removeAll()
      return taken
    }
    for job in waiting { job(runner) }
  }

  /// Runs `body` on the reactor and returns its value, or nil when the reactor
  /// had not started it within `timeoutMilliseconds` (it is then never run).
  /// Once started it is waited for: a job may drain a namespace's I/O.
  public func call<T: Sendable>(
    timeoutMilliseconds: Int = 5000, _ body: @escaping @Sendable (ServerRunner) -> T
  ) -> T? {
    let call = PendingCall<T>()
    post { runner in
      guard call.begin() else { return }
      call.finish(body(runner))
    }
    return call.wait(timeoutMilliseconds: timeoutMilliseconds)
  }
}

/// One `call`'s hand-over between the waiting thread and the reactor.
final class PendingCall<T: Sendable>: Sendable {
  private enum State {
    case waiting, running
    case done(T)
    case abandoned
  }
  private let state = Mutex<State>(.waiting)
  private let started = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)

  /// Reactor: false when the caller gave up, so the job must not run.
  func begin() -> Bool {
    let begun = state.withLock { state -> Bool in
      guard case .waiting = state else { return false }
      state = .running
      return true
    }
    if begun { started.signal() }
    return begun
  }

  func finish(_ value: T) {
    state.withLock { $0 = .done(value) }
    finished.signal()
  }

  func wait(timeoutMilliseconds: Int) -> T? {
    if started.wait(timeout: .now() + .milliseconds(timeoutMilliseconds)) == .timedOut {
      let gaveUp = state.withLock { state -> Bool in
        guard case .waiting = state else { return false }
        state = .abandoned
        return true
      }
      if gaveUp { return nil }
    }
    finished.wait()
    return state.withLock { state -> T? in
      if case .done(let value) = state { return value }
      return nil
    }
  }
}
