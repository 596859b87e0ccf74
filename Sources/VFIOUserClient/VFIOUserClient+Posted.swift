import POSIX
import VFIOUser

/// Posted commands: No_reply set, one sendmsg, no round trip (what QEMU does
/// for a region access when nothing is mmappable). The server handles
/// messages in order, so the reply to any later request means every earlier
/// post has been applied.
extension VFIOUserClient {
  /// Sends `command` with No_reply and returns without waiting. Throws the
  /// server's error for an earlier post, if it sent one (it then drops the
  /// connection).
  public func post(_ command: Command, payload: [UInt8] = []) throws(Errno) {
    if let postedFailure { throw postedFailure }
    guard !posted.isFull else {
      // One request in `PostedWindow.limit`: its reply closes the window, so
      // a stray reply's ID can never be the ID being waited for.
      _ = try request(command, payload: payload)
      return
    }
    let id = try connection.sendCommand(command, payload: payload, noReply: true)
    posted.add(id)
    postsSent &+= 1
  }

  /// A posted REGION_WRITE: a doorbell without the wait.
  public func postRegionWrite(_ region: UInt32, offset: UInt64, data: [UInt8])
    throws(Errno)
  {
    let access = RegionAccess(offset: offset, region: region, count: UInt32(clamping: data.count))
    try post(.regionWrite, payload: access.encoded + data)
  }

  public func postRegionWrite32(_ region: UInt32, offset: UInt64, _ value: UInt32)
    throws(Errno)
  {
    var writer = WireWriter()
    writer.write(value)
    try postRegionWrite(region, offset: offset, data: writer.bytes)
  }

  /// A reply that is not the one awaited: a post's failure when its ID is in
  /// the window (kept, and thrown by the next post), else a protocol error.
  func strayReply(_ message: inout Message) throws(Errno) {
    message.closeFDs()
    guard posted.contains(message.header.id) else { throw .protocolError }
    if postedFailure == nil {
      // An error bit with errno 0 is allowed; a success reply to a post is
      // the server breaking the protocol.
      let code = Int32(bitPattern: message.header.error)
      postedFailure =
        message.header.isError ? (code == 0 ? .io : Errno(code)) : .protocolError
    }
  }
}
