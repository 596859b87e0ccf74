import Glibc
import Logging
import POSIX

/// DMA to client memory shared without a descriptor: VFIO_USER_DMA_READ/DMA_WRITE.
///
/// While waiting for the client's reply the server keeps serving the client's own
/// requests (QEMU may be blocked on one of ours, e.g. a register write, before it answers).
extension VFIOUserServer: RemoteDMA {
  public func remoteRead(address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno)
  {
    let layout = options.dmaLayout
    var done = 0
    while done < buffer.count {
      let chunk = min(buffer.count - done, try chunkLimit())
      let chunkAddress = address &+ UInt64(done)
      let reply = try exchange(
        .dmaRead, payload: layout.encode(address: chunkAddress, count: chunk, data: nil))
      let (replyAddress, count, offset) = try layout.decode(reply.payload, expectData: true)
      guard replyAddress == chunkAddress, count == chunk else { throw .protocolError }
      reply.payload.withUnsafeBytes { raw in
        UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + chunk])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + chunk]))
      }
      done += chunk
    }
  }

  public func remoteWrite(address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno) {
    let layout = options.dmaLayout
    var done = 0
    while done < buffer.count {
      let chunk = min(buffer.count - done, try chunkLimit())
      let payload = layout.encode(
        address: address &+ UInt64(done), count: chunk,
        data: UnsafeRawBufferPointer(rebasing: buffer[done..<done + chunk]))
      _ = try exchange(.dmaWrite, payload: payload)
      done += chunk
    }
  }

  private func chunkLimit() throws(Errno) -> Int {
    guard let negotiated else { throw .badAddress }
    return max(1, min(Int(negotiated.peer.maxDataTransferSize), options.maxRemoteDMAChunk))
  }

  /// Sends a request and waits for its reply, dispatching client requests meanwhile.
  private func exchange(_ command: Command, payload: [UInt8]) throws(Errno) -> Message {
    guard let connection, !mustDisconnect else { throw .badAddress }
    guard dmaDepth < options.maxNestedDMA else { throw .busy }
    dmaDepth += 1
    defer { dmaDepth -= 1 }
    let id = try connection.sendCommand(command, payload: payload)
    while true {
      var message: Message
      do {
        message = try connection.receive(timeoutMilliseconds: options.replyTimeoutMilliseconds)
      } catch {
        logger.warning("no reply to \(command) (id \(id)): \(error)")
        mustDisconnect = true
        throw .io
      }
      if message.header.kind == .reply {
        message.closeFDs()
        guard message.header.id == id, message.header.rawCommand == command.rawValue else {
          logger.warning("reply with unexpected id \(message.header.id)")
          mustDisconnect = true
          throw .protocolError
        }
        if message.header.isError {
          throw Errno(
            Int32(bitPattern: message.header.error == 0 ? UInt32(EIO) : message.header.error))
        }
        return message
      }
      handle(&message)
      if self.connection == nil || mustDisconnect { throw .io }
    }
  }
}
