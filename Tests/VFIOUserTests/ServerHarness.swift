import Foundation
import Glibc
import POSIX
import Synchronization
import TestSupport
import Testing
import VFIOUser
import VFIOUserClient

/// Runs a VFIOUserServer with a TestDevice on its own thread, listening at a fresh path.
final class ServerHarness: Sendable {
  let path: String
  let log = DeviceLog()
  private let stop: StopSignal
  private let finished = DispatchSemaphore(value: 0)

  init(options: ServerOptions = ServerOptions(), socket connected: FileDescriptor? = nil) throws {
    let dir = FileManager.default.temporaryDirectory.path
    path = "\(dir)/vfu-test-\(UUID().uuidString.prefix(8)).sock"
    stop = try StopSignal()
    let ready = DispatchSemaphore(value: 0)
    let path = self.path
    let log = self.log
    let stop = self.stop
    let finished = self.finished
    let failure = Mutex<String?>(nil)
    Thread.detachNewThread {
      defer { finished.signal() }
      do {
        let device = try TestDevice(log: log)
        let server = VFIOUserServer(device: device, options: options)
        if let connected { try server.adopt(connected) } else { try server.listen(path: path) }
        ready.signal()
        try server.run(until: stop)
        server.closeListener()
      } catch {
        failure.withLock { $0 = "\(error)" }
        ready.signal()
      }
    }
    ready.wait()
    if let message = failure.withLock({ $0 }) { throw SystemErrorDescription(message: message) }
  }

  struct SystemErrorDescription: Error { var message: String }

  func shutdown() {
    stop.signal()
    finished.wait()
    stop.close()
  }

  func connect() throws -> VFIOUserClient {
    try VFIOUserClient(path: path)
  }

  /// A negotiated client.
  func client(_ caps: Capabilities = .qemuClient) throws -> VFIOUserClient {
    let client = try connect()
    try client.negotiate(caps)
    return client
  }

  /// The server still does its job for a brand-new client after whatever came before.
  func expectServesNewClient(sourceLocation: SourceLocation = #_sourceLocation) throws {
    let client = try self.client()
    let info = try client.deviceInfo()
    #expect(info.numRegions == 9, sourceLocation: sourceLocation)
    #expect(
      try client.regionRead(7, offset: 0, count: 2) == [0x34, 0x12], sourceLocation: sourceLocation)
  }
}

/// A descriptor whose release by the server the test can observe: the write end of a
/// pipe goes to the server; once every copy is closed the read end reports hang-up.
struct ClosureProbe {
  let readEnd: FileDescriptor
  let writeEnd: FileDescriptor

  init() {
    var fds: [Int32] = [-1, -1]
    _ = pipe(&fds)
    readEnd = FileDescriptor(owning: fds[0])
    writeEnd = FileDescriptor(owning: fds[1])
  }

  /// Call after the message carrying `writeEnd` was sent.
  func dropOurCopy() { writeEnd.close() }

  /// True once nobody holds the write end any more (waits up to `ms`).
  func isReleased(waitingMilliseconds ms: Int32 = 2000) -> Bool {
    let ready = try? readEnd.poll(timeout: .milliseconds(Int(ms)))
    return ready?.contains(.hangUp) == true
  }

  func close() { readEnd.close() }
}

/// Builds a raw message (header + payload) for malformed-input tests.
func rawMessage(
  id: UInt16 = 7, command: UInt16, flags: UInt32 = 0, size: UInt32? = nil, payload: [UInt8] = []
) -> [UInt8] {
  var writer = WireWriter()
  MessageHeader(
    id: id, rawCommand: command, size: size ?? UInt32(16 + payload.count), flags: flags
  ).encode(to: &writer)
  writer.append(payload)
  return writer.bytes
}

/// Expects `body` to throw exactly `expected`.
func expectErrno(
  _ expected: Errno, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
  } catch let error as Errno {
    #expect(error == expected, sourceLocation: sourceLocation)
  } catch {
    Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
  }
}

/// True when the server closed the connection (EOF or reset) within `ms`.
func expectDisconnected(_ client: VFIOUserClient, sourceLocation: SourceLocation = #_sourceLocation)
{
  do {
    var message = try client.connection.receive(timeoutMilliseconds: 3000)
    message.closeFDs()
    Issue.record(
      "expected a disconnect, got message \(message.header)", sourceLocation: sourceLocation)
  } catch {
    #expect(error == .connectionReset, sourceLocation: sourceLocation)
  }
}
