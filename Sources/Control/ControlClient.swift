import POSIX

/// One connection to a control socket: send a request, read its reply line.
/// For `nvme-vfu-ctl` and the tests.
public final class ControlClient {
  private let socket: FileDescriptor
  private var input: [UInt8] = []
  private var nextID: UInt64 = 1

  public init(path: String) throws(Errno) {
    socket = try UnixSocket.connect(path: path)
  }

  /// Sends raw bytes (tests send malformed lines this way).
  public func send(raw line: String) throws(Errno) {
    try UnixSocket.send(socket, Array(line.utf8))
  }

  /// The next reply line, waiting at most `timeoutMilliseconds`; nil on
  /// timeout or when the server closed the connection.
  public func readLine(timeoutMilliseconds: Int32 = 30_000) throws(Errno) -> [UInt8]? {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
    defer { buffer.deallocate() }
    while true {
      if let newline = input.firstIndex(of: UInt8(ascii: "\n")) {
        let line = Array(input[..<newline])
        input.removeSubrange(...newline)
        return line
      }
      guard try UnixSocket.waitReadable(socket, timeoutMilliseconds: timeoutMilliseconds) else {
        return nil
      }
      guard let count = try UnixSocket.receiveSome(socket, into: buffer) else { continue }
      if count == 0 { return nil }
      input.append(contentsOf: buffer.prefix(count))
    }
  }

  /// Calls `method`; the result, or the server's error object.
  public func call(_ method: String, _ params: [String: JSONValue] = [:]) throws(JSONRPC
    .ErrorObject)
    -> JSONValue
  {
    let id = nextID
    nextID &+= 1
    let request = JSONRPC.Request(method: method, params: params, id: .unsigned(id))
    do {
      try send(raw: request.line + "\n")
      guard let line = try readLine() else {
        throw JSONRPC.ErrorObject.internalError(
          "the server closed the connection or did not answer")
      }
      return try JSONRPC.parseReply(line)
    } catch let error as JSONRPC.ErrorObject {
      throw error
    } catch {
      throw .internalError("control socket: \(error)")
    }
  }

  public func close() { socket.close() }
}
