import Glibc
import Logging
import POSIX

/// Serves one device to one client at a time over a UNIX stream socket.
///
/// Single-threaded: a reactor (or `run`) drives it. On client disconnect every DMA window
/// and IRQ descriptor of that client is released and the device state is kept; the next
/// client can then connect.
public final class VFIOUserServer {
  public let device: any VFIOUserDevice
  public let dma: DMASpace
  public let irqs: IRQTable
  public let options: ServerOptions
  /// Where the server says what clients did; silent unless the owner sets one.
  public var logger = Logger(label: "vfio-user", factory: { _ in SwiftLogNoOpLogHandler() })

  public private(set) var listener: FileDescriptor?
  private var socketPath: String?
  public private(set) var connection: Connection?
  /// Clients that connected while `connection` was served, oldest first, with when
  /// each came (CLOCK_MONOTONIC ns). See VFIOUserServer+Waiting.swift.
  var waiting: [(socket: FileDescriptor, since: UInt64)] = []
  /// Set once VERSION succeeded on the current connection.
  public internal(set) var negotiated: Negotiated?
  /// Something went wrong inside a nested wait; drop the client when back at the top.
  var mustDisconnect = false
  var dmaDepth = 0
  /// `DMAFaultGuard.faults` when last looked at (the count is per process).
  private var reportedDMAFaults = DMAFaultGuard.faults

  public init(device: any VFIOUserDevice, options: ServerOptions = ServerOptions()) {
    self.device = device
    self.options = options
    self.dma = DMASpace(
      maxMappings: Int(options.capabilities.maxDMAMaps), pageSize: 4096)
    self.irqs = IRQTable(infos: device.irqInfos)
    dma.remote = self
    device.attach(dma: dma, irqs: irqs)
  }

  deinit {
    dropClient(reason: nil)
    closeListener()
  }

  /// Pages behind a DMA window that vanished since the last look (the client
  /// shrank the file it shared): the guard put zero pages in their place, so
  /// the server only has to say so.
  private func reportLostClientMemory() {
    let faults = DMAFaultGuard.faults
    guard faults != reportedDMAFaults else { return }
    let text =
      "client memory behind a DMA window vanished (\(faults &- reportedDMAFaults) page(s), "
      + "the last at host address 0x\(String(DMAFaultGuard.lastAddress, radix: 16))): the "
      + "client shrank the file it shared; those pages read as zeroes here and writes to "
      + "them are lost"
    logger.error("\(text)")
    reportedDMAFaults = faults
  }

  // MARK: listening and accepting

  /// Listens at `path`, the socket file with `permissions` (else the umask's). A stale
  /// socket file is replaced; a live server there is EADDRINUSE.
  public func listen(path: String, permissions: mode_t? = nil) throws(Errno) {
    try UnixSocket.removeStale(path: path)
    let fd = try UnixSocket.listen(path: path, permissions: permissions)
    try adoptListener(fd)
    socketPath = path
  }

  /// Serves an inherited descriptor (`--fd`): a listening socket, or one already connected.
  public func adopt(_ fd: FileDescriptor) throws(Errno) {
    if try UnixSocket.isListening(fd) { try adoptListener(fd) } else { try attach(socket: fd) }
  }

  private func adoptListener(_ fd: FileDescriptor) throws(Errno) {
    try fd.setNonBlocking()
    listener = fd
  }

  /// Starts serving an already-connected socket (replacing nothing: one client at a time).
  public func attach(socket fd: FileDescriptor) throws(Errno) {
    guard connection == nil else {
      fd.close()
      throw .busy
    }
    connection = try Connection(socket: fd, maxMessageSize: options.maxIncomingMessageSize)
    negotiated = nil
    mustDisconnect = false
    logger.info("client connected")
    device.clientConnected()
  }

  public func closeListener() {
    refuseWaiting(all: true)
    listener?.close()
    listener = nil
    if let socketPath { UnixSocket.remove(path: socketPath) }
    socketPath = nil
  }

  // MARK: serving

  /// Handles the messages that are already available, at most `budget` of them so a
  /// chatty client cannot starve the rest of a reactor turn. Returns false once the client
  /// is gone (it has then been dropped).
  @discardableResult
  public func serviceConnection(budget: Int = 64) -> Bool {
    reportLostClientMemory()
    var handled = 0
    while let connection, !mustDisconnect, handled < budget {
      handled += 1
      switch connection.reader.next(from: connection.socket) {
      case .wouldBlock:
        return true
      case .message(var message):
        handle(&message)
      case .closed:
        dropClient(reason: "client closed the connection")
        return false
      case .unframeable(let header):
        // Too large to read: say why, then drop it (the stream cannot be resynchronised).
        if Int(header.size) >= MessageHeader.size {
          try? connection.sendError(to: header, .tooBig)
        }
        dropClient(reason: "unframeable message (size \(header.size))")
        return false
      case .failed(let error):
        dropClient(reason: "receive failed: \(error)")
        return false
      }
    }
    if mustDisconnect {
      dropClient(reason: "protocol error")
      return false
    }
    return connection != nil
  }

  /// Forgets the client: DMA windows (after the device lets go of each), IRQ descriptors
  /// and the socket. Device state stays.
  /// The log line comes last, once all of it is released: whoever watches
  /// the log (the VM suite's leak check) may count the server's descriptors
  /// from then on.
  public func dropClient(reason: String?) {
    guard connection != nil else { return }
    unmapAllDMA()
    irqs.releaseAll()
    connection = nil
    negotiated = nil
    mustDisconnect = false
    device.clientDisconnected()
    if let reason { logger.info("client disconnected: \(reason)") }
  }

  /// Drops every DMA window, each only after the device has let go of it.
  func unmapAllDMA() {
    for region in dma.regions { device.dmaWillUnmap(region) }
    dma.removeAll()
  }

  // MARK: dispatch

  /// Handles one client message: replies (unless no_reply), and closes every descriptor
  /// that the handler did not keep.
  func handle(_ message: inout Message) {
    let header = message.header
    let outcome: Outcome
    switch header.kind {
    case nil:
      outcome = .failure(.invalidArgument)
    case .reply:
      // A reply nobody waits for: the peer's state is not ours; do not guess.
      logger.warning("unexpected reply (id \(header.id)) from client")
      message.closeFDs()
      mustDisconnect = true
      return
    case .command:
      do {
        outcome = try dispatch(&message)
      } catch {
        outcome = .failure(error)
      }
    }
    // Descriptors the handler did not keep are closed before the client hears back.
    message.closeFDs()
    reply(to: header, outcome)
  }

  enum Outcome {
    case success(payload: [UInt8], fds: [FileDescriptor])
    case failure(Errno)
    /// Reply with an error, then drop the client (failed version negotiation).
    case fatal(Errno)

    static let empty = Outcome.success(payload: [], fds: [])
    static func payload(_ bytes: [UInt8]) -> Outcome { .success(payload: bytes, fds: []) }
  }

  private func reply(to header: MessageHeader, _ outcome: Outcome) {
    guard let connection else { return }
    do {
      switch outcome {
      case .success(let payload, let fds):
        if !header.noReply { try connection.sendReply(to: header, payload: payload, fds: fds) }
      case .failure(let error):
        logger.debug("command \(header.rawCommand) failed: \(error)")
        if !header.noReply { try connection.sendError(to: header, error) }
      case .fatal(let error):
        logger.warning("command \(header.rawCommand) failed, dropping client: \(error)")
        try connection.sendError(to: header, error)
        mustDisconnect = true
      }
    } catch {
      logger.warning("reply failed: \(error)")
      mustDisconnect = true
    }
  }
}
