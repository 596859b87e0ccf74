/// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as the control socket
/// speaks it: one request or reply per line, as SPDK's rpc.py does.
public enum JSONRPC {
  public struct Request: Sendable, Hashable {
    public var method: String
    /// Named parameters; a request without `params` has an empty object.
    public var params: [String: JSONValue]
    /// Absent for a notification, which gets no reply.
    public var id: JSONValue?

    public init(method: String, params: [String: JSONValue] = [:], id: JSONValue? = 1) {
      self.method = method
      self.params = params
      self.id = id
    }

    public var line: String {
      var members: [String: JSONValue] = [
        "jsonrpc": "2.0", "method": .string(method), "params": .object(params),
      ]
      if let id { members["id"] = id }
      return JSONValue.object(members).serialized()
    }
  }

  /// A JSON-RPC error object. The message says what to fix.
  public struct ErrorObject: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
      self.code = code
      self.message = message
      self.data = data
    }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603
    /// The request was well formed but the server refused it (a locked
    /// file, a missing namespace, a size it cannot take).
    public static let refusedCode = -32000
    /// The server could not act in time (the reactor did not answer).
    public static let busyCode = -32001

    public static func parseError(_ message: String) -> ErrorObject {
      ErrorObject(code: parseErrorCode, message: message)
    }
    public static func invalidRequest(_ message: String) -> ErrorObject {
      ErrorObject(code: invalidRequestCode, message: message)
    }
    public static func methodNotFound(_ method: String, known: [String]) -> ErrorObject {
      ErrorObject(
        code: methodNotFoundCode,
        message: "unknown method \"\(method)\"; methods: \(known.sorted().joined(separator: ", "))")
    }
    public static func invalidParams(_ message: String) -> ErrorObject {
      ErrorObject(code: invalidParamsCode, message: message)
    }
    public static func refused(_ message: String) -> ErrorObject {
      ErrorObject(code: refusedCode, message: message)
    }
    public static func busy(_ message: String) -> ErrorObject {
      ErrorObject(code: busyCode, message: message)
    }
    public static func internalError(_ message: String) -> ErrorObject {
      ErrorObject(code: internalErrorCode, message: message)
    }

    var json: JSONValue {
      var members: [String: JSONValue] = [
        "code": .integer(Int64(code)), "message": .string(message),
      ]
      if let data { members["data"] = data }
      return .object(members)
    }

    public var description: String { "\(message) (JSON-RPC error \(code))" }
  }

  public enum Outcome: Sendable, Hashable {
    case result(JSONValue)
    case error(ErrorObject)
  }

  /// A request that could not be understood, with the id to answer under
  /// (null when even that could not be read).
  public struct Failure: Error, Sendable, Hashable {
    public var id: JSONValue
    public var error: ErrorObject
  }

  /// Reads one request line. Batches (arrays) are refused: one line, one call.
  public static func parseRequest(_ line: some Collection<UInt8>) -> Result<Request, Failure> {
    guard let document = JSONValue.parse(line) else {
      return .failure(Failure(id: .null, error: .parseError("not valid JSON")))
    }
    guard case .object(let members) = document else {
      return .failure(
        Failure(
          id: .null,
          error: .invalidRequest("a request is one JSON object per line, not \(document.typeName)"))
      )
    }
    let id = members["id"]
    if let id {
      switch id {
      case .string, .integer, .unsigned, .null: break
      default:
        return .failure(
          Failure(id: .null, error: .invalidRequest("id must be a string or an integer")))
      }
    }
    let replyID = id ?? .null
    guard members["jsonrpc"] == "2.0" else {
      return .failure(Failure(id: replyID, error: .invalidRequest("jsonrpc must be \"2.0\"")))
    }
    guard let method = members["method"]?.stringValue else {
      return .failure(Failure(id: replyID, error: .invalidRequest("method must be a string")))
    }
    let params: [String: JSONValue]
    switch members["params"] {
    case nil, .null?: params = [:]
    case .object(let object)?: params = object
    case let other?:
      return .failure(
        Failure(
          id: replyID,
          error: .invalidParams("params must be an object of named values, not \(other.typeName)")))
    }
    return .success(Request(method: method, params: params, id: id))
  }

  /// The reply line for `outcome` (without the newline).
  public static func reply(id: JSONValue, outcome: Outcome) -> String {
    var members: [String: JSONValue] = ["jsonrpc": "2.0", "id": id]
    switch outcome {
    case .result(let value): members["result"] = value
    case .error(let error): members["error"] = error.json
    }
    return JSONValue.object(members).serialized()
  }

  /// A client's reading of a reply line: the result, or the server's error.
  public static func parseReply(_ line: some Collection<UInt8>) throws(ErrorObject) -> JSONValue {
    guard let document = JSONValue.parse(line), case .object(let members) = document else {
      throw .parseError("the server's reply is not a JSON object")
    }
    if let error = members["error"]?.objectValue {
      let code = error["code"].flatMap { value -> Int? in
        switch value {
        case .integer(let number): Int(exactly: number)
        case .unsigned(let number): Int(exactly: number)
        default: nil
        }
      }
      throw ErrorObject(
        code: code ?? ErrorObject.internalErrorCode,
        message: error["message"]?.stringValue ?? "error without a message", data: error["data"])
    }
    guard let result = members["result"] else {
      throw .parseError("the server's reply has neither result nor error")
    }
    return result
  }
}
