import POSIX
import VFIOUser

/// The client side of vfio-user: what a VMM does, in-process, for tests and benchmarks.
///
/// Synchronous: each call sends one request and waits for its reply. Server requests that
/// arrive meanwhile (DMA_READ/DMA_WRITE on fd-less memory) are answered from
/// `messageMemory`. Error replies are thrown as `Errno` with the server's errno.
/// Commands may also be posted (`post`, No_reply): sent, never waited for.
public final class VFIOUserClient {
  public let connection: Connection
  public private(set) var server = Capabilities()
  public var dmaLayout: DMAMessageLayout = .spec
  public var replyTimeoutMilliseconds: Int32 = 10_000
  /// Client memory the server reaches by messages (registered with DMA_MAP without fd).
  public let messageMemory = MessageMemory()
  /// Commands sent by `request` (each waits for its reply) and by `post`
  /// (none does), so far.
  public private(set) var requestsSent: UInt64 = 0
  public internal(set) var postsSent: UInt64 = 0
  /// The server's error for a posted command, when it sent one (it answers
  /// a post only when it then drops the connection).
  public internal(set) var postedFailure: Errno?
  /// IDs posted since the last reply to a request.
  var posted = PostedWindow()

  public init(socket: FileDescriptor, maxMessageSize: Int = 16 + 64 + (1 << 20)) throws(Errno) {
    connection = try Connection(socket: socket, maxMessageSize: maxMessageSize)
  }

  public convenience init(path: String) throws(Errno) {
    try self.init(socket: try UnixSocket.connect(path: path))
  }

  // MARK: requests

  /// Sends a command and waits for the matching reply; returns it (descriptors included).
  public func request(_ command: Command, payload: [UInt8] = [], fds: [FileDescriptor] = [])
    throws(Errno)
    -> Message
  {
    let id = try connection.sendCommand(command, payload: payload, fds: fds)
    requestsSent &+= 1
    return try awaitReply(id: id)
  }

  /// Sends raw bytes (tests use this for malformed input).
  public func sendRaw(_ bytes: [UInt8], fds: [FileDescriptor] = []) throws(Errno) {
    try UnixSocket.send(connection.socket, bytes, fds: fds)
  }

  public func awaitReply(id: UInt16) throws(Errno) -> Message {
    while true {
      var message = try connection.receive(timeoutMilliseconds: replyTimeoutMilliseconds)
      if message.header.kind == .reply {
        guard message.header.id == id else {
          try strayReply(&message)
          continue
        }
        posted.close()
        if message.header.isError {
          message.closeFDs()
          throw Errno(Int32(bitPattern: message.header.error))
        }
        return message
      }
      serve(&message)
    }
  }

  /// Answers server requests that are already waiting (no blocking). A
  /// reply here can only be a posted command's (see `strayReply`).
  public func pump() throws(Errno) {
    while true {
      switch connection.reader.next(from: connection.socket) {
      case .message(var message) where message.header.kind == .reply: try strayReply(&message)
      case .message(var message): serve(&message)
      case .wouldBlock: return
      case .closed: throw .connectionReset
      case .unframeable: throw .protocolError
      case .failed(let error): throw error
      }
    }
  }

  // MARK: commands

  @discardableResult
  public func negotiate(
    _ capabilities: Capabilities = .qemuClient, major: UInt16 = 0, minor: UInt16 = 0
  )
    throws(Errno) -> VersionMessage
  {
    let proposal = VersionMessage(major: major, minor: minor, capabilities: capabilities)
    let reply = try request(.version, payload: proposal.encoded)
    let version = try VersionMessage(payload: reply.payload)
    server = version.capabilities
    return version
  }

  public func deviceInfo() throws(Errno) -> DeviceInfo {
    let reply = try request(
      .deviceGetInfo, payload: DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded)
    return try DeviceInfo(payload: reply.payload)
  }

  public struct RegionReply {
    public var info: RegionInfo
    public var sparse: SparseMmapCapability?
    /// The descriptor to mmap (any further ones the server sent close with the reply).
    public var fd: FileDescriptor?
  }

  public func regionInfo(_ index: UInt32, argsz: UInt32 = 256) throws(Errno) -> RegionReply {
    var reply = try request(
      .deviceGetRegionInfo, payload: RegionInfo(argsz: argsz, index: index).encoded)
    let fds = reply.takeFDs()
    let info = try RegionInfo(payload: reply.payload)
    var sparse: SparseMmapCapability?
    if info.flags & RegionInfo.flagCaps != 0, info.capOffset >= UInt32(RegionInfo.size) {
      var reader = WireReader(reply.payload, offset: Int(info.capOffset))
      sparse = try? SparseMmapCapability(from: &reader)
    }
    return RegionReply(info: info, sparse: sparse, fd: fds.first)
  }

  public func irqInfo(_ index: UInt32) throws(Errno) -> IRQInfo {
    let reply = try request(.deviceGetIRQInfo, payload: IRQInfo(index: index).encoded)
    return try IRQInfo(payload: reply.payload)
  }

  public func setIRQs(_ set: IRQSet, fds: [FileDescriptor] = []) throws(Errno) {
    _ = try request(.deviceSetIRQs, payload: set.encoded, fds: fds)
  }

  public func regionRead(_ region: UInt32, offset: UInt64, count: Int) throws(Errno)
    -> [UInt8]
  {
    let access = RegionAccess(offset: offset, region: region, count: UInt32(clamping: count))
    let reply = try request(.regionRead, payload: access.encoded)
    var reader = WireReader(reply.payload)
    let echoed = try RegionAccess(from: &reader)
    guard echoed.count <= UInt32(count) else { throw .protocolError }
    return Array(try reader.take(Int(echoed.count)))
  }

  public func regionWrite(_ region: UInt32, offset: UInt64, data: [UInt8]) throws(Errno) {
    let access = RegionAccess(offset: offset, region: region, count: UInt32(clamping: data.count))
    _ = try request(.regionWrite, payload: access.encoded + data)
  }

  public func regionRead32(_ region: UInt32, offset: UInt64) throws(Errno) -> UInt32 {
    var reader = WireReader(try regionRead(region, offset: offset, count: 4))
    return try reader.read()
  }

  public func regionWrite32(_ region: UInt32, offset: UInt64, _ value: UInt32) throws(Errno) {
    var writer = WireWriter()
    writer.write(value)
    try regionWrite(region, offset: offset, data: writer.bytes)
  }

  public func regionWriteMulti(_ writes: [RegionWriteOne]) throws(Errno) -> UInt64 {
    var writer = WireWriter()
    writer.write(UInt64(writes.count))
    for entry in writes { entry.encode(to: &writer) }
    let reply = try request(.regionWriteMulti, payload: writer.bytes)
    var reader = WireReader(reply.payload)
    return try reader.read()
  }

  /// Shares `size` bytes at `address`: by `fd` (mmapped by the server) or, without one,
  /// by messages answered from `messageMemory`.
  public func dmaMap(
    address: UInt64, size: UInt64, fd: FileDescriptor?, offset: UInt64 = 0, readable: Bool = true,
    writable: Bool = true
  )
    throws(Errno)
  {
    var flags: UInt32 = 0
    if readable { flags |= DMAMapRequest.readable }
    if writable { flags |= DMAMapRequest.writable }
    let map = DMAMapRequest(flags: flags, offset: offset, address: address, size: size)
    _ = try request(.dmaMap, payload: map.encoded, fds: fd.map { [$0] } ?? [])
  }

  public func dmaUnmap(address: UInt64, size: UInt64, flags: UInt32 = 0) throws(Errno) {
    let unmap = DMAUnmapRequest(flags: flags, address: address, size: size)
    _ = try request(.dmaUnmap, payload: unmap.encoded)
  }

  public func reset() throws(Errno) {
    _ = try request(.deviceReset)
  }

  // MARK: serving the server

  private func serve(_ message: inout Message) {
    message.closeFDs()
    let header = message.header
    guard header.kind == .command else { return }
    do {
      switch header.command {
      case .dmaRead:
        let (address, count, _) = try dmaLayout.decode(message.payload, expectData: false)
        var data = [UInt8](repeating: 0, count: count)
        try data.withUnsafeMutableBytes { buffer in try messageMemory.read(address, into: buffer) }
        let payload = data.withUnsafeBytes {
          dmaLayout.encode(address: address, count: count, data: $0)
        }
        if !header.noReply { try connection.sendReply(to: header, payload: payload) }
      case .dmaWrite:
        let (address, count, offset) = try dmaLayout.decode(message.payload, expectData: true)
        try message.payload.withUnsafeBytes { raw in
          try messageMemory.write(
            address, from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + count]))
        }
        var writer = WireWriter()
        writer.write(address)
        writer.write(UInt32(clamping: count))
        if !header.noReply { try connection.sendReply(to: header, payload: writer.bytes) }
      default:
        if !header.noReply { try connection.sendError(to: header, .notImplemented) }
      }
    } catch {
      if !header.noReply { try? connection.sendError(to: header, error as? Errno ?? .io) }
    }
  }
}

extension Capabilities {
  /// What QEMU 10.1+ proposes (see ENVIRONMENT.md).
  public static var qemuClient: Capabilities {
    var caps = Capabilities()
    caps.maxMessageFDs = 16
    caps.maxDataTransferSize = 1 << 20
    caps.pageSizes = 4096
    caps.maxDMAMaps = 65535
    caps.writeMultiple = true
    caps.migration = true
    return caps
  }
}
