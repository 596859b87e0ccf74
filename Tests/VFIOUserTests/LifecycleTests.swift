import Foundation
import Glibc
import POSIX
import Testing
import VFIOUser
import VFIOUserClient

@Suite struct LifecycleTests {
  @Test func disconnectReleasesDMAAndIRQsAndKeepsDeviceState() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let ram = try GuestRAM(size: 0x1000)
    defer { ram.close() }
    let probe = ClosureProbe()
    defer { probe.close() }
    do {
      let client = try harness.client()
      try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd)
      try client.setIRQs(
        IRQSet(data: .eventFD, action: .trigger, index: 2, start: 5, count: 1),
        fds: [probe.writeEnd])
      probe.dropOurCopy()
      try client.regionWrite(7, offset: 0x44, data: [0xC0, 0xFF, 0xEE])
      #expect(!probe.isReleased(waitingMilliseconds: 50))
    }  // the client goes away here (its socket is closed)
    let next = try harness.client()
    #expect(probe.isReleased())
    let log = harness.log.snapshot
    #expect(log.unmapped.map(\.address) == [0x1000])
    #expect(log.disconnects == 1)
    #expect(log.connects == 2)
    #expect(try next.regionRead(7, offset: 0x44, count: 3) == [0xC0, 0xFF, 0xEE])
    // The old window is gone: mapping the same range again succeeds.
    try next.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd)
  }

  @Test func manyClientsInSequence() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    for i in 0..<50 {
      let client = try harness.client()
      try client.dmaMap(address: 0x1000, size: 0x1000, fd: nil)
      try client.regionWrite(7, offset: 0x50, data: [UInt8(i)])
    }
    // The server takes a new client only after dropping the previous one, so while this
    // one is connected exactly 50 disconnects have been handled.
    let last = try harness.client()
    #expect(try last.regionRead(7, offset: 0x50, count: 1) == [49])
    #expect(harness.log.snapshot.disconnects == 50)
  }

  @Test func servesAnAlreadyConnectedSocket() throws {
    let (ours, theirs) = try UnixSocket.pair()
    let harness = try ServerHarness(socket: theirs)
    defer { harness.shutdown() }
    let client = try VFIOUserClient(socket: ours)
    try client.negotiate()
    #expect(try client.deviceInfo().numRegions == 9)
  }

  @Test func staleSocketFileIsReplacedAndLiveOneRefused() throws {
    let dir = FileManager.default.temporaryDirectory.path
    let path = "\(dir)/vfu-stale-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    // A socket file nobody serves any more.
    let stale = try UnixSocket.listen(path: path)
    stale.close()
    let device = try TestDevice(log: DeviceLog())
    let server = VFIOUserServer(device: device)
    try server.listen(path: path)
    #expect(UnixSocket.isServed(path: path))
    let second = VFIOUserServer(device: try TestDevice(log: DeviceLog()))
    expectErrno(Errno(EADDRINUSE)) { try second.listen(path: path) }
    server.closeListener()
    #expect(access(path, F_OK) != 0)  // unlinked on close
  }

  @Test func aRegularFileAtTheSocketPathIsNotDeleted() throws {
    let dir = FileManager.default.temporaryDirectory.path
    let path = "\(dir)/vfu-file-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    #expect(FileManager.default.createFile(atPath: path, contents: Data([1])))
    defer { unlink(path) }
    let server = VFIOUserServer(device: try TestDevice(log: DeviceLog()))
    expectErrno(.exists) { try server.listen(path: path) }
    #expect(access(path, F_OK) == 0)
  }
}

@Suite struct DescriptorTests {
  @Test func descriptorsOnACommandThatTakesNoneAreRefusedAndClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let probe = ClosureProbe()
    defer { probe.close() }
    expectErrno(.invalidArgument) {
      _ = try client.request(
        .deviceGetInfo, payload: DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded,
        fds: [probe.writeEnd])
    }
    probe.dropOurCopy()
    #expect(probe.isReleased())
  }

  @Test func twoDescriptorsOnDMAMapAreRefusedAndClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let probes = [ClosureProbe(), ClosureProbe()]
    defer { for probe in probes { probe.close() } }
    let map = DMAMapRequest(flags: 3, offset: 0, address: 0x1000, size: 0x1000)
    expectErrno(.invalidArgument) {
      _ = try client.request(.dmaMap, payload: map.encoded, fds: probes.map(\.writeEnd))
    }
    for probe in probes { probe.dropOurCopy() }
    #expect(probes.allSatisfy { $0.isReleased() })
  }

  @Test func descriptorOnDMAUnmapIsAcceptedAndClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.dmaMap(address: 0x1000, size: 0x1000, fd: nil)
    let probe = ClosureProbe()
    defer { probe.close() }
    _ = try client.request(
      .dmaUnmap, payload: DMAUnmapRequest(address: 0x1000, size: 0x1000).encoded,
      fds: [probe.writeEnd])
    probe.dropOurCopy()
    #expect(probe.isReleased())
  }

  @Test func moreDescriptorsThanNegotiatedAreRefusedAndClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let probes = (0..<20).map { _ in ClosureProbe() }
    defer { for probe in probes { probe.close() } }
    expectErrno(.invalidArgument) {
      try client.setIRQs(
        IRQSet(data: .eventFD, action: .trigger, index: 2, start: 0, count: 8),
        fds: probes.map(\.writeEnd))
    }
    for probe in probes { probe.dropOurCopy() }
    #expect(probes.allSatisfy { $0.isReleased() })
  }

  @Test func descriptorsBeforeNegotiationAreClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.connect()
    let probe = ClosureProbe()
    defer { probe.close() }
    let map = DMAMapRequest(flags: 3, offset: 0, address: 0x1000, size: 0x1000)
    expectErrno(.invalidArgument) {
      _ = try client.request(.dmaMap, payload: map.encoded, fds: [probe.writeEnd])
    }
    probe.dropOurCopy()
    #expect(probe.isReleased())
  }

  @Test func descriptorsWithAnOversizedMessageAreClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let probe = ClosureProbe()
    defer { probe.close() }
    try client.sendRaw(rawMessage(id: 1, command: 2, size: 0x4000_0000), fds: [probe.writeEnd])
    probe.dropOurCopy()
    expectErrno(.tooBig) { _ = try client.awaitReply(id: 1) }
    #expect(probe.isReleased())
  }

  @Test func openDescriptorCountIsStableAcrossBadClients() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    try harness.expectServesNewClient()
    let before = openDescriptorCount()
    for _ in 0..<100 {
      let client = try harness.client()
      let ram = try GuestRAM(size: 0x1000)
      try client.dmaMap(address: 0x1000, size: 0x1000, fd: ram.fd)
      let events = try EventFDs(count: 2)
      try client.setIRQs(
        IRQSet(data: .eventFD, action: .trigger, index: 2, start: 0, count: 2), fds: events.fds)
      _ = try? client.request(.deviceGetInfo, payload: [], fds: [events.fds[0]])
      events.close()
      ram.close()
    }
    try harness.expectServesNewClient()
    // Other tests run in parallel and open descriptors too (up to ~40 at once), so allow
    // for their noise but not for 100 clients x (1 socket + 2 eventfds + 1 refused fd).
    #expect(openDescriptorCount() < before + 80)
  }
}

func openDescriptorCount() -> Int {
  (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}
