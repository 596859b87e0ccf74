import Control
import Foundation
import Glibc
import POSIX
import Testing

/// The control thread over a real socket, with a handler that echoes.
@Suite struct ControlServerTests {
  final class Fixture {
    let path: String
    let server: ControlServer

    init() throws {
      path =
        FileManager.default.temporaryDirectory.path
        + "/ctl-test-\(UUID().uuidString.prefix(8)).sock"
      server = try ControlServer(path: path) { request in
        if request.method == "fail" { return .error(.refused("asked to fail")) }
        return .result(["method": .string(request.method), "params": .object(request.params)])
      }
      #expect(server.start() == 0)
    }

    deinit { server.stop() }
  }

  @Test func socketIsMode0600() throws {
    let fixture = try Fixture()
    var st = stat()
    #expect(lstat(fixture.path, &st) == 0)
    #expect(st.st_mode & 0o777 == 0o600)
  }

  @Test func answersSeveralClientsAtOnce() throws {
    let fixture = try Fixture()
    let first = try ControlClient(path: fixture.path)
    let second = try ControlClient(path: fixture.path)
    #expect(try first.call("a", ["x": 1])["method"] == "a")
    #expect(try second.call("b")["method"] == "b")
    #expect(try first.call("c")["method"] == "c")
    #expect(throws: JSONRPC.ErrorObject(code: -32000, message: "asked to fail")) {
      try second.call("fail")
    }
  }

  @Test func badLinesGetErrorsAndTheConnectionKeepsServing() throws {
    let fixture = try Fixture()
    let client = try ControlClient(path: fixture.path)
    try client.send(raw: "{not json\n\n[]\n")
    let first = try #require(try client.readLine())
    #expect(throws: JSONRPC.ErrorObject.self) { try JSONRPC.parseReply(first) }
    let second = try #require(try client.readLine())
    #expect(String(decoding: second, as: UTF8.self).contains("-32600"))
    #expect(try client.call("after")["method"] == "after")
  }

  @Test func aNotificationGetsNoReply() throws {
    let fixture = try Fixture()
    let client = try ControlClient(path: fixture.path)
    try client.send(raw: #"{"jsonrpc":"2.0","method":"quiet"}"# + "\n")
    #expect(try client.call("loud")["method"] == "loud")  // the next line is this reply
  }

  @Test func anOverlongLineClosesOnlyThatConnection() throws {
    let fixture = try Fixture()
    let other = try ControlClient(path: fixture.path)
    let flooder = try ControlClient(path: fixture.path)
    let chunk = String(repeating: "x", count: 64 << 10)
    var closed = false
    for _ in 0..<((ControlServer.maxLineBytes >> 16) + 4) {
      do { try flooder.send(raw: chunk) } catch {
        closed = true
        break
      }
    }
    // The server answers with a parse error and closes; unread bytes may turn the
    // close into a reset, so the reply may be lost, but the connection must end.
    var ended = closed
    do {
      while let reply = try flooder.readLine(timeoutMilliseconds: 5000) {
        #expect(String(decoding: reply, as: UTF8.self).contains("-32700"))
      }
      ended = true
    } catch {
      ended = true  // reset by the server
    }
    #expect(ended)
    #expect(try other.call("still")["method"] == "still")
  }

  @Test func aClientThatVanishesMidRequestCostsNothing() throws {
    let fixture = try Fixture()
    let gone = try ControlClient(path: fixture.path)
    try gone.send(raw: #"{"jsonrpc":"2.0","method":"half"#)
    gone.close()
    let client = try ControlClient(path: fixture.path)
    #expect(try client.call("next")["method"] == "next")
  }

  @Test func refusesClientsBeyondTheLimitButKeepsTheOthers() throws {
    let fixture = try Fixture()
    var clients: [ControlClient] = []
    for _ in 0..<ControlServer.maxClients { clients.append(try ControlClient(path: fixture.path)) }
    for client in clients { _ = try client.call("hello") }
    let extra = try ControlClient(path: fixture.path)
    #expect(throws: JSONRPC.ErrorObject.self) { try extra.call("hello") }
    #expect(try clients[0].call("again")["method"] == "again")
  }

  @Test func stopRemovesTheSocket() throws {
    let fixture = try Fixture()
    fixture.server.stop()
    #expect(access(fixture.path, F_OK) != 0)
  }

  @Test func periodicWorkRuns() throws {
    let count = Counter()
    let server = try ControlServer(
      path: nil, handler: { _ in .result(.null) },
      periodic: .init(intervalMilliseconds: 20) { count.bump() })
    #expect(server.start() == 0)
    usleep(300_000)
    server.stop()
    #expect(count.value >= 3)
  }

  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func bump() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
  }
}
