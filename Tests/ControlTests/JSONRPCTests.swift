import Control
import Testing

@Suite struct JSONRPCTests {
  @Test func parsesARequestWithNamedParams() throws {
    let line =
      #"{"jsonrpc":"2.0","method":"namespace_add","params":{"backing":"mem:1G","size":4096},"id":7}"#
    let request = try JSONRPC.parseRequest(Array(line.utf8)).get()
    #expect(request.method == "namespace_add")
    #expect(request.params["backing"] == "mem:1G")
    #expect(request.params["size"]?.unsignedValue == 4096)
    #expect(request.id == .unsigned(7))
  }

  @Test func keepsSixtyFourBitIntegers() throws {
    let line = #"{"jsonrpc":"2.0","method":"m","params":{"n":18446744073709551615},"id":"x"}"#
    let request = try JSONRPC.parseRequest(Array(line.utf8)).get()
    #expect(request.params["n"]?.unsignedValue == UInt64.max)
    #expect(request.id == "x")
  }

  @Test(arguments: [
    ("{nope", JSONRPC.ErrorObject.parseErrorCode),
    ("[1,2]", JSONRPC.ErrorObject.invalidRequestCode),
    (#"{"jsonrpc":"1.0","method":"m","id":1}"#, JSONRPC.ErrorObject.invalidRequestCode),
    (#"{"jsonrpc":"2.0","method":5,"id":1}"#, JSONRPC.ErrorObject.invalidRequestCode),
    (#"{"jsonrpc":"2.0","method":"m","id":[1]}"#, JSONRPC.ErrorObject.invalidRequestCode),
    (#"{"jsonrpc":"2.0","method":"m","params":[1],"id":1}"#, JSONRPC.ErrorObject.invalidParamsCode),
  ])
  func refusesMalformedRequests(line: String, code: Int) {
    guard case .failure(let failure) = JSONRPC.parseRequest(Array(line.utf8)) else {
      Issue.record("accepted \(line)")
      return
    }
    #expect(failure.error.code == code)
  }

  @Test func aFailureKeepsTheRequestsIDWhenItCouldBeRead() {
    let line = #"{"jsonrpc":"2.0","method":"m","params":"x","id":42}"#
    guard case .failure(let failure) = JSONRPC.parseRequest(Array(line.utf8)) else {
      Issue.record("accepted")
      return
    }
    #expect(failure.id == .unsigned(42))
  }

  @Test func repliesRoundTrip() throws {
    let ok = JSONRPC.reply(id: 3, outcome: .result(["nsid": 2]))
    #expect(try JSONRPC.parseReply(Array(ok.utf8))["nsid"]?.unsignedValue == 2)
    let failed = JSONRPC.reply(id: 3, outcome: .error(.refused("no namespace 9")))
    #expect(throws: JSONRPC.ErrorObject(code: -32000, message: "no namespace 9")) {
      try JSONRPC.parseReply(Array(failed.utf8))
    }
  }

  @Test func unknownMethodListsTheKnownOnes() {
    let error = JSONRPC.ErrorObject.methodNotFound("get_stat", known: ["get_stats", "get_config"])
    #expect(error.code == -32601)
    #expect(error.message.contains("get_config, get_stats"))
  }
}

@Suite struct ParamsTests {
  @Test func typedAccessNamesTheParameter() throws {
    let params = Params(["nsid": "one", "size": "10G", "force": 1])
    #expect(throws: JSONRPC.ErrorObject.self) { try params.nsid() }
    #expect(try params.size("size") == 10 << 30)
    #expect(throws: JSONRPC.ErrorObject.self) { try params.bool("force") }
    do {
      _ = try params.nsid()
    } catch {
      #expect(error.message.contains("nsid"))
      #expect(error.code == JSONRPC.ErrorObject.invalidParamsCode)
    }
  }

  @Test func refusesUnknownParameters() {
    let params = Params(["nsid": 1, "sise": 4096])
    #expect(throws: JSONRPC.ErrorObject.self) { try params.allowOnly(["nsid", "size"]) }
  }

  @Test func nsidRange() throws {
    #expect(throws: JSONRPC.ErrorObject.self) { try Params(["nsid": 0]).nsid() }
    #expect(throws: JSONRPC.ErrorObject.self) { try Params(["nsid": 0xFFFF_FFFF]).nsid() }
    #expect(try Params(["nsid": 5]).nsid() == 5)
  }

  @Test(arguments: [
    ("4096", UInt64(4096)), ("512K", 512 << 10), ("3m", 3 << 20), ("10G", 10 << 30),
    ("1T", 1 << 40),
  ])
  func parsesSizes(text: String, bytes: UInt64) {
    #expect(Params.parseSize(text) == bytes)
  }

  @Test(arguments: ["", "G", "-1G", "1.5G", "99999999999T", "1 G", "１G"])
  func refusesBadSizes(text: String) {
    #expect(Params.parseSize(text) == nil)
  }
}
