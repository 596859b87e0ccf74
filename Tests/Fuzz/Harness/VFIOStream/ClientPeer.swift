import Foundation
import Glibc
import POSIX
import Synchronization
import VFIOUser

/// The fake client's receiving half, on a thread of its own: it reads all
/// the server sends (replies, and the DMA_READ/DMA_WRITE requests it makes
/// for memory shared without descriptors), so the server never blocks on a
/// full socket, and answers each DMA request from `RemoteRAM`, or misanswers
/// the ones the input picked:
///
///     1 error reply (EFAULT)      2 error flag with errno 0
///     3 count one short           4 wrong address
///     5 wrong message id          6 a REGION_WRITE of CC first (0, or with
///                                   the alternate: a shutdown), then the answer
///     7 a DMA_UNMAP of everything (alternate: DEVICE_RESET) first, then the answer
///
/// It ends when the server closes the connection.
final class ClientPeer: Sendable {
  struct Tally: Sendable {
    var replies = 0
    var errorReplies = 0
    var dmaRequests = 0
    var violations: [String] = []
  }

  private let socket: FileDescriptor
  private let ram: RemoteRAM
  private let layout: DMAMessageLayout
  private let misbehaviour: UInt8
  private let pattern: UInt8
  private let alternateNested: Bool
  private let tally = Mutex(Tally())
  private let finished = DispatchSemaphore(value: 0)

  init(socket: FileDescriptor, ram: RemoteRAM, config: StreamConfig) {
    self.socket = socket
    self.ram = ram
    self.layout = config.qemuLayout ? .qemu : .spec
    self.misbehaviour = config.misbehaviour
    self.pattern = config.misbehaviourPattern
    self.alternateNested = config.alternateNested
  }

  func start() {
    Thread.detachNewThread { [self] in
      serve()
      finished.signal()
    }
  }

  /// Waits for the thread (after the server closed the connection).
  func join() -> Tally {
    finished.wait()
    return tally.withLock { $0 }
  }

  private func serve() {
    // Big enough for any reply the server may send (a 1 MiB REGION_READ) and
    // any DMA_WRITE chunk (up to the client's max_data_xfer_size, 64 MiB).
    var reader = MessageReader(maxMessageSize: 64 << 20 + 64)
    defer { reader.discard() }
    while true {
      guard (try? UnixSocket.waitReadable(socket)) != nil else { return }
      switch reader.next(from: socket) {
      case .wouldBlock: continue
      case .message(var message):
        message.closeFDs()
        handle(message)
      case .unframeable(let header):
        tally.withLock { $0.violations.append("server sent an unframeable message \(header)") }
        discardUntilClosed()
        return
      case .closed, .failed:
        return
      }
    }
  }

  /// After garbage, keep the socket drained so the server cannot block.
  private func discardUntilClosed() {
    var scratch = [UInt8](repeating: 0, count: 65536)
    while (try? UnixSocket.waitReadable(socket)) != nil {
      let n = scratch.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, 0) }
      if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return }
    }
  }

  private func handle(_ message: Message) {
    let header = message.header
    guard header.kind == .command, let command = header.command,
      command == .dmaRead || command == .dmaWrite
    else {
      tally.withLock {
        $0.replies += 1
        if header.isError { $0.errorReplies += 1 }
      }
      return
    }
    let index = tally.withLock { tally in
      defer { tally.dmaRequests += 1 }
      return tally.dmaRequests
    }
    let mode = pattern & 1 << (index % 8) != 0 ? misbehaviour : 0
    answer(message, command: command, mode: mode)
  }

  private func answer(_ request: Message, command: Command, mode: UInt8) {
    let isRead = command == .dmaRead
    guard
      let (address, count, offset) = try? layout.decode(request.payload, expectData: !isRead),
      count <= 2 << 20
    else {
      send(reply(to: request.header, error: EINVAL))
      return
    }
    if !isRead {
      ram.write(address, request.payload[offset..<offset + count])
    }
    switch mode {
    case 1: send(reply(to: request.header, error: EFAULT))
    case 2: send(reply(to: request.header, error: 0))
    case 6:
      // CC = 0, or CC with SHN = 01b (shutdown: drain and flush every backend).
      let cc: UInt32 = alternateNested ? 6 << 16 | 4 << 20 | 1 << 14 | 1 : 0
      sendNested(.regionWrite, RegionAccess(offset: 0x14, region: 0, count: 4).encoded + le(cc))
    case 7 where alternateNested:
      sendNested(.deviceReset, [])
    case 7:
      sendNested(
        .dmaUnmap, DMAUnmapRequest(flags: DMAUnmapRequest.all, address: 0, size: 0).encoded)
    default: break
    }
    if mode == 1 || mode == 2 { return }
    var header = request.header
    if mode == 5 { header.id &+= 1 }
    let replyCount = mode == 3 ? max(0, count - 1) : count
    let replyAddress = mode == 4 ? address &+ 4096 : address
    let data: [UInt8]? = isRead ? ram.read(address, count: replyCount) : nil
    let payload = data.withUnsafeBufferPointerIfPresent {
      layout.encode(address: replyAddress, count: replyCount, data: $0)
    }
    send(replyHeader(header, payloadCount: payload.count, error: nil) + payload)
  }

  private func sendNested(_ command: Command, _ payload: [UInt8]) {
    let header = MessageHeader(
      id: 0x8000, command: command, kind: .command, payloadSize: payload.count)
    send(header.encoded + payload)
  }

  private func reply(to header: MessageHeader, error: Int32) -> [UInt8] {
    replyHeader(header, payloadCount: 0, error: error)
  }

  private func replyHeader(_ request: MessageHeader, payloadCount: Int, error: Int32?) -> [UInt8] {
    var flags = MessageHeader.Kind.reply.rawValue
    if error != nil { flags |= 1 << 5 }
    return MessageHeader(
      id: request.id, rawCommand: request.rawCommand, size: UInt32(16 + payloadCount),
      flags: flags, error: UInt32(bitPattern: error ?? 0)
    ).encoded
  }

  /// A vanished server is fine: its end of the stream shows it.
  private func send(_ bytes: [UInt8]) {
    try? UnixSocket.send(socket, bytes)
  }
}

extension Optional where Wrapped == [UInt8] {
  /// The bytes as a raw buffer when present, else nil, for encoders that
  /// take optional data.
  fileprivate func withUnsafeBufferPointerIfPresent<R>(
    _ body: (UnsafeRawBufferPointer?) -> R
  ) -> R {
    switch self {
    case .some(let bytes): bytes.withUnsafeBytes { body($0) }
    case .none: body(nil)
    }
  }
}
