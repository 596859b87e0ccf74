import NVMe
import POSIX
import VFIOUser

/// One thread, one controller: polls the client's socket, the doorbell page
/// and the backends' completions, and is the only code touching the
/// controller. DMA unmap, reset and CC.EN=0 are ordinary steps of the same
/// loop (the controller drains what they affect before replying), so the I/O
/// path takes no lock.
public final class Reactor {
  public let server: VFIOUserServer
  public let device: NVMeDevice
  public let mode: PollMode
  public let policy: IdlePolicy
  public private(set) var statistics = ReactorStatistics()
  /// Extra descriptors that end the wait (signalfd, a stop eventfd) and what
  /// to do when one is readable. Returning false stops the reactor.
  private var wakeups: [(fd: FileDescriptor, handler: () -> Bool)] = []
  private var running = false
  /// Reused for every wait so an idle wakeup allocates nothing.
  private var pollSet = PollSet()

  public init(
    server: VFIOUserServer, device: NVMeDevice, mode: PollMode = .adaptive,
    policy: IdlePolicy = IdlePolicy()
  ) {
    self.server = server
    self.device = device
    self.mode = mode
    self.policy = policy
  }

  public func addWakeup(fd: FileDescriptor, handler: @escaping () -> Bool) {
    wakeups.append((fd, handler))
  }

  /// Asks `run` to return after the current turn (from the reactor thread,
  /// e.g. in a wakeup handler).
  public func stop() { running = false }

  /// Serves until a wakeup handler says stop.
  ///
  /// A turn that finds work does not read the clock (clock_gettime was ~5%
  /// of a busy reactor's samples): only idle turns do, and the first idle
  /// turn after work stands for "the last work" in the spin timeout (one
  /// turn later than the work itself, well under the 200 us spin). Busy mode
  /// never needs the time at all.
  public func run() {
    running = true
    var turnsSinceSocketCheck = 0
    var socketChecksSinceWakeups = 0
    var lastWork = MonotonicClock.nanoseconds()
    var workSinceClock = false
    var sleepMicroseconds = policy.minSleepMicroseconds
    var turnStart = lastWork
    while running {
      statistics.turns &+= 1
      if server.connection == nil {
        // A client that waited while the last one was served is served now. Else
        // there is nothing to poll without a client: wait for one (or a signal).
        if !server.acceptPending() {
          statistics.busyNanoseconds &+= MonotonicClock.nanoseconds() &- turnStart
          waitForEvents(timeoutMicroseconds: -1)
        }
        turnStart = MonotonicClock.nanoseconds()
        lastWork = turnStart
        workSinceClock = false
        continue
      }
      turnsSinceSocketCheck &+= 1
      if turnsSinceSocketCheck >= policy.socketCheckInterval {
        turnsSinceSocketCheck = 0
        server.serviceConnection()
        socketChecksSinceWakeups &+= 1
        if socketChecksSinceWakeups >= policy.wakeupCheckInterval {
          socketChecksSinceWakeups = 0
          pollWakeups()
        }
      }
      if device.controller.poll() > 0 {
        workSinceClock = true
        sleepMicroseconds = policy.minSleepMicroseconds
        continue
      }
      guard mode == .adaptive else {
        if turnsSinceSocketCheck == 0 { pollWakeups() }
        continue
      }
      let now = MonotonicClock.nanoseconds()
      if workSinceClock {
        workSinceClock = false
        lastWork = now
      }
      guard
        now &- lastWork >= policy.spinNanoseconds || device.controller.waitsForQoSTokens
          || onlyRemoteWorkInFlight()
      else { continue }
      // Idle: sleep until the socket, a backend or a signal wakes us. With
      // trapped doorbells that is all it takes: a queue without shadow
      // doorbells rings by message, and a shadowed one once EventIdx asks it
      // to (measured before this: the first read after 20 ms idle waited
      // 0.75 ms for the next timed look). Mapped doorbells wake nobody, so
      // the timeout comes round to look at them again.
      let timeout: Int
      if device.doorbellMode == .trapped && inFlightCanWake() {
        guard device.controller.armDoorbellEvents() else { continue }  // a tail moved: work
        timeout = -1
      } else {
        timeout = sleepMicroseconds
      }
      statistics.busyNanoseconds &+= now &- turnStart
      // A controller timer (interrupt coalescing), or a waiting client's grace
      // period, may still bound the sleep.
      let deadline = [device.controller.nextTimerDeadline, server.nextWaitingDeadline]
        .compactMap { $0 }.min()
      let bounded = Self.timeout(timeout, until: deadline, now: now)
      if bounded < 0 { statistics.untimedSleeps &+= 1 }
      let socketReadable = waitForEvents(timeoutMicroseconds: bounded)
      turnStart = MonotonicClock.nanoseconds()
      let cap =
        turnStart &- lastWork >= policy.deepIdleNanoseconds
        ? policy.deepSleepMicroseconds : policy.maxSleepMicroseconds
      sleepMicroseconds = min(sleepMicroseconds &* 2, cap)
      // Look at the socket next turn only if it has something: an idle wakeup
      // then costs one ppoll and one look at the doorbells.
      if socketReadable { turnsSinceSocketCheck = policy.socketCheckInterval }
    }
    statistics.busyNanoseconds &+= MonotonicClock.nanoseconds() &- turnStart
  }

  /// Whether all that is in flight waits on backends not worth spinning for
  /// (RBD): then the reactor sleeps at once, on their eventfds and the
  /// doorbells, rather than spin through a network round trip on the CPU
  /// librbd's threads need (measured: 4k randread QD32 on RBD 17.6k IOPS
  /// spinning, see the README's "io_uring and RBD"). With nothing in
  /// flight the spin goes on: the guest's next doorbell is then near.
  private func onlyRemoteWorkInFlight() -> Bool {
    var remote = false
    for ns in device.controller.namespaces where ns.backend.inFlight > 0 {
      guard !ns.backend.spinsForCompletions else { return false }
      remote = true
    }
    return remote
  }

  /// Whether every backend with requests in flight has an eventfd to wake
  /// the reactor. One without (the contract: it completes by the next reap)
  /// that still holds requests, such as a test's held backend, needs the
  /// timed look.
  private func inFlightCanWake() -> Bool {
    device.controller.namespaces.allSatisfy { ns in
      ns.backend.inFlight == 0 || ns.backend.completionFD != nil
    }
  }

  /// Checks the wakeup descriptors and the listener without blocking (a busy reactor
  /// may not sleep for a long time), and refuses waiting clients whose time is up.
  private func pollWakeups() {
    pollSet.removeAll()
    for wakeup in wakeups { pollSet.append(wakeup.fd) }
    let listenerIndex = appendListener()
    if server.hasWaitingClients { server.serviceWaiting() }
    guard !pollSet.isEmpty, let ready = try? pollSet.wait(timeout: .immediate), ready > 0 else {
      return
    }
    dispatchWakeups()
    acceptIfReady(listenerIndex)
  }

  /// The listener joins every wait, a client served or not: one that connects while
  /// another is served is told so (VFIOUserServer+Waiting.swift), not left unanswered.
  private func appendListener() -> Int? {
    guard let listener = server.listener else { return nil }
    pollSet.append(listener)
    return pollSet.count - 1
  }

  /// Accepts what the listener has; acceptPending also serves or refuses the
  /// clients that wait. Returns whether it ran.
  @discardableResult
  private func acceptIfReady(_ listenerIndex: Int?) -> Bool {
    guard let listenerIndex, !pollSet.ready(at: listenerIndex).isEmpty else { return false }
    server.acceptPending()
    return true
  }

  /// Sleeps until a wakeup descriptor, the socket or a backend's completion
  /// eventfd is readable, or the timeout passes (negative: no timeout).
  /// Accepts a client the listener has. Returns whether the client's socket is readable.
  @discardableResult
  private func waitForEvents(timeoutMicroseconds: Int) -> Bool {
    // A stop that pollWakeups took earlier in this turn has drained its descriptor:
    // sleeping now (untimed, with nothing left to wake us) would never end.
    guard running else { return false }
    pollSet.removeAll()
    for wakeup in wakeups { pollSet.append(wakeup.fd) }
    var socketIndex: Int?
    if let connection = server.connection {
      socketIndex = pollSet.count
      pollSet.append(connection.socket)
    }
    let listenerIndex = appendListener()
    for ns in device.controller.namespaces {
      if let fd = ns.backend.completionFD, ns.backend.inFlight > 0 {
        pollSet.append(borrowing: fd)
      }
    }
    let start = MonotonicClock.nanoseconds()
    statistics.sleeps &+= 1
    // A failed wait reports nothing ready: the next turn looks again.
    _ = try? pollSet.wait(timeout: .microseconds(timeoutMicroseconds))
    statistics.idleNanoseconds &+= MonotonicClock.nanoseconds() &- start
    dispatchWakeups()
    if !acceptIfReady(listenerIndex), server.hasWaitingClients { server.serviceWaiting() }
    return socketIndex.map { !pollSet.ready(at: $0).isEmpty } ?? false
  }

  private func dispatchWakeups() {
    for (index, wakeup) in wakeups.enumerated() where !pollSet.ready(at: index).isEmpty {
      if !wakeup.handler() { running = false }
    }
  }

  /// `microseconds` (negative: none), shortened to end by `deadline` (a
  /// controller timer, CLOCK_MONOTONIC nanoseconds) when there is one.
  static func timeout(_ microseconds: Int, until deadline: UInt64?, now: UInt64) -> Int {
    guard let deadline else { return microseconds }
    let untilDeadline = deadline > now ? Int(clamping: (deadline &- now &+ 999) / 1000) : 0
    return microseconds < 0 ? untilDeadline : min(microseconds, untilDeadline)
  }
}
