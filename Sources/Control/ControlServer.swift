import Glibc
import POSIX

/// The control socket: JSON-RPC 2.0 over a UNIX socket, one request or reply
/// per line, served by a thread of its own so that a slow or hostile control
/// client never touches the reactor. The handler runs on this thread; what
/// must happen on the reactor it hands over itself (see `ReactorMailbox`).
///
/// A client costs only its own connection: a line longer than
/// `maxLineBytes` gets a parse error and the connection is closed; a client
/// that does not read its replies stops being read once `maxPendingReplyBytes`
/// wait for it; each round answers at most one request per client.
public final class ControlServer: @unchecked Sendable {
  // @unchecked: after `start` only the control thread touches the clients and
  // buffers; `stop` only signals the eventfd and joins.
  public typealias Handler = @Sendable (JSONRPC.Request) -> JSONRPC.Outcome

  /// Work run on the control thread every `intervalMilliseconds` (the metrics file).
  public struct Periodic: Sendable {
    public var intervalMilliseconds: Int
    public var action: @Sendable () -> Void
    public init(intervalMilliseconds: Int, action: @escaping @Sendable () -> Void) {
      self.intervalMilliseconds = intervalMilliseconds
      self.action = action
    }
  }

  public static let maxLineBytes = 1 << 20
  public static let maxPendingReplyBytes = 4 << 20
  public static let maxClients = 16

  public let path: String?
  private let listener: FileDescriptor?
  private let stopEvent: FileDescriptor
  private let handler: Handler
  private let peerPolicy: PeerPolicy
  private let refused: @Sendable (String) -> Void
  private let periodic: Periodic?
  private var clients: [ControlClientState] = []
  private var thread: JoinableThread?
  private var pollSet = PollSet()
  private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)

  /// Binds the socket now (mode 0600 by default), so a bad path fails at
  /// start-up; serving begins with `start`. With `path` nil only `periodic` runs.
  /// `peerPolicy` decides who may connect (SO_PEERCRED); `refused` hears why one may not.
  public init(
    path: String?, permissions: mode_t = 0o600, handler: @escaping Handler,
    periodic: Periodic? = nil, peerPolicy: PeerPolicy = .anyone,
    refused: @escaping @Sendable (String) -> Void = { _ in }
  ) throws(Errno) {
    self.path = path
    self.peerPolicy = peerPolicy
    self.refused = refused
    self.handler = handler
    self.periodic = periodic
    stopEvent = try EventFD.create()
    if let path {
      try UnixSocket.removeStale(path: path)
      let socket = try UnixSocket.listen(path: path, permissions: permissions)
      try socket.setNonBlocking()
      listener = socket
    } else {
      listener = nil
    }
  }

  deinit {
    readBuffer.deallocate()
  }

  /// Starts the thread; 0 or pthread_create's errno.
  public func start() -> Int32 {
    do {
      thread = try JoinableThread { self.run() }
      return 0
    } catch {
      return error.code
    }
  }

  /// Ends the thread (a request being handled finishes first), closes every
  /// connection and removes the socket file.
  public func stop() {
    if let thread {
      _ = EventFD.signal(stopEvent)
      thread.join()
      self.thread = nil
    }
    listener?.close()
    if let path { UnixSocket.remove(path: path) }
  }

  private func run() {
    var nextPeriodic = periodic.map {
      MonotonicClock.nanoseconds() &+ UInt64($0.intervalMilliseconds) &* 1_000_000
    }
    while true {
      pollSet.removeAll()
      pollSet.append(stopEvent)
      let listenerIndex = listener.map { pollSet.append($0) }
      let firstClient = pollSet.count
      for client in clients {
        var events: PollEvents = []
        if !client.readClosed && client.output.count < Self.maxPendingReplyBytes {
          events.insert(.readable)
        }
        if !client.output.isEmpty { events.insert(.writable) }
        pollSet.append(client.socket, for: events)
      }
      let anyLine = clients.contains { $0.hasLine && $0.output.count < Self.maxPendingReplyBytes }
      var timeout = PollTimeout.forever
      if anyLine {
        timeout = .immediate
      } else if let deadline = nextPeriodic {
        let now = MonotonicClock.nanoseconds()
        timeout = .microseconds(deadline > now ? Int(clamping: (deadline &- now) / 1000) : 0)
      }
      _ = try? pollSet.wait(timeout: timeout)
      if !pollSet.ready(at: 0).isEmpty { break }
      for (offset, client) in clients.enumerated() {
        let ready = pollSet.ready(at: firstClient + offset)
        if ready.contains(.writable) { flush(client) }
        if !ready.isDisjoint(with: [.readable, .hangUp, .error]) { read(client) }
      }
      for client in clients where client.output.count < Self.maxPendingReplyBytes {
        answerOne(client)
        flush(client)
      }
      clients.removeAll { client in
        guard client.finished else { return false }
        client.socket.close()
        return true
      }
      if let listenerIndex, !pollSet.ready(at: listenerIndex).isEmpty { acceptClients() }
      if let periodic, let deadline = nextPeriodic, MonotonicClock.nanoseconds() >= deadline {
        periodic.action()
        nextPeriodic =
          MonotonicClock.nanoseconds() &+ UInt64(periodic.intervalMilliseconds) &* 1_000_000
      }
    }
    for client in clients { client.socket.close() }
    clients.removeAll()
  }

  private func acceptClients() {
    guard let listener else { return }
    while let socket = try? UnixSocket.accept(listener) {
      if let refusal = peerPolicy.refusal(of: socket) {
        refused("control socket: refused a client: \(refusal)")
        socket.close()
        continue
      }
      guard clients.count < Self.maxClients, (try? socket.setNonBlocking()) != nil else {
        socket.close()  // over the limit: the newcomer is refused, the others keep serving
        continue
      }
      clients.append(ControlClientState(socket: socket))
    }
  }

  private func read(_ client: ControlClientState) {
    guard !client.readClosed else { return }
    do {
      guard let count = try UnixSocket.receiveSome(client.socket, into: readBuffer) else { return }
      if count == 0 {
        client.readClosed = true
        return
      }
      client.input.append(contentsOf: readBuffer.prefix(count))
    } catch {
      client.readClosed = true
      client.closing = true
      client.output.removeAll()
      return
    }
    if !client.input.contains(UInt8(ascii: "\n")) && client.input.count > Self.maxLineBytes {
      let error = JSONRPC.ErrorObject.parseError(
        "request line longer than \(Self.maxLineBytes) bytes; closing the connection")
      enqueue(JSONRPC.reply(id: .null, outcome: .error(error)), to: client)
      client.input.removeAll()
      client.closing = true
    }
  }

  private func answerOne(_ client: ControlClientState) {
    guard !client.closing, let line = client.takeLine() else { return }
    if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return }
    switch JSONRPC.parseRequest(line) {
    case .failure(let failure):
      enqueue(JSONRPC.reply(id: failure.id, outcome: .error(failure.error)), to: client)
    case .success(let request):
      let outcome = handler(request)
      guard let id = request.id else { return }  // a notification: no reply
      enqueue(JSONRPC.reply(id: id, outcome: outcome), to: client)
    }
  }

  private func enqueue(_ reply: String, to client: ControlClientState) {
    client.output.append(contentsOf: reply.utf8)
    client.output.append(UInt8(ascii: "\n"))
  }

  private func flush(_ client: ControlClientState) {
    guard !client.output.isEmpty else { return }
    do {
      let sent = try UnixSocket.sendSome(client.socket, client.output[...])
      client.output.removeFirst(sent)
    } catch {
      client.output.removeAll()
      client.closing = true
    }
  }
}
