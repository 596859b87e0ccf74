import Glibc
import Logging
import POSIX

/// One client at a time: a client that connects while another is served is accepted,
/// logged and left waiting. If the served one leaves within the grace period (a VMM
/// reconnecting, say) the waiting one is served next; otherwise it is refused: its
/// VERSION gets EBUSY and the connection is closed, rather than hanging unanswered.
extension VFIOUserServer {
  /// Accepts every connection waiting on the listener: the first is served when none
  /// is, the rest wait. Then refuses clients whose wait ran out and serves the oldest
  /// waiting one when nobody is served. True if a client is served now that was not.
  @discardableResult
  public func acceptPending(now: UInt64 = MonotonicClock.nanoseconds()) -> Bool {
    let wasServing = connection != nil
    while let listener {
      let fd: FileDescriptor?
      do {
        fd = try UnixSocket.accept(listener)
      } catch {
        logger.warning("accept failed: \(error)")
        break
      }
      guard let fd else { break }
      if let refusal = options.peerPolicy.refusal(of: fd) {
        logger.warning("refused a client: \(refusal)")
        fd.close()
      } else if connection == nil && waiting.isEmpty {
        attachAccepted(fd)
      } else if waiting.count >= options.maxWaitingClients {
        refuse(fd, why: "\(waiting.count) more are already waiting")
      } else {
        waiting.append((fd, now))
        let seconds = Double(options.secondClientGraceNanoseconds) / 1e9
        logger.warning(
          "another client connected while one is served: it waits, and is refused in \(seconds) s unless the served one disconnects"
        )
      }
    }
    serviceWaiting(now: now)
    return !wasServing && connection != nil
  }

  /// Serves the oldest waiting client once none is served; refuses those whose grace
  /// period ran out.
  public func serviceWaiting(now: UInt64 = MonotonicClock.nanoseconds()) {
    if connection == nil, !waiting.isEmpty {
      let next = waiting.removeFirst()
      logger.info("serving the client that waited")
      attachAccepted(next.socket)
    }
    refuseWaiting(all: false, now: now)
  }

  /// When the oldest waiting client's grace period ends, or nil when none waits.
  public var nextWaitingDeadline: UInt64? {
    waiting.first.map { $0.since &+ options.secondClientGraceNanoseconds }
  }

  /// Whether clients wait (the reactor then bounds its sleep by `nextWaitingDeadline`).
  public var hasWaitingClients: Bool { !waiting.isEmpty }

  func refuseWaiting(all: Bool, now: UInt64 = MonotonicClock.nanoseconds()) {
    while let first = waiting.first,
      all || now &- first.since >= options.secondClientGraceNanoseconds
    {
      waiting.removeFirst()
      refuse(first.socket, why: "another client is served")
    }
  }

  private func attachAccepted(_ fd: FileDescriptor) {
    do {
      try attach(socket: fd)
    } catch {
      logger.warning("cannot serve the new client: \(error)")
    }
  }

  /// Answers the client's first message (its VERSION, if it sent it yet) with EBUSY,
  /// then closes the connection.
  private func refuse(_ fd: FileDescriptor, why: String) {
    logger.warning("refused a client: \(why) (one client at a time)")
    if let refused = try? Connection(socket: fd, maxMessageSize: MessageHeader.size + 4096) {
      if case .message(var message) = refused.reader.next(from: fd) {
        message.closeFDs()
        if !message.header.noReply { try? refused.sendError(to: message.header, .busy) }
      }
    }
    fd.close()  // the Connection closes it too; a second close does nothing
  }
}
