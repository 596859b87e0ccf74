import Glibc
import POSIX
import Testing
import VFIOUser
import VFIOUserClient

/// Event counters the test reads to see whether the server signalled.
struct EventFDs {
  let fds: [FileDescriptor]

  init(count: Int) throws {
    fds = try (0..<count).map { _ in try EventFD.create() }
  }

  func count(_ i: Int) -> UInt64 { EventFD.drain(fds[i]) ?? 0 }
  func close() { for fd in fds { fd.close() } }
}

@Suite struct IRQTests {
  let msix: UInt32 = 2

  @Test func eventfdTriggerIsSignalledWhenTheDeviceFires() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let events = try EventFDs(count: 8)
    defer { events.close() }
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .trigger, index: msix, start: 0, count: 8), fds: events.fds)
    try client.regionWrite(0, offset: 0, data: [3])
    #expect(events.count(3) == 1)
    #expect(events.count(2) == 0)
    #expect(harness.log.snapshot.irqChanges == [2])
  }

  /// A pipe holds 8192 eventfd-sized writes; a full one must not stop the
  /// server (it would block in write(2) and never answer again).
  @Test func aTriggerPipeNobodyDrainsDoesNotBlockTheServer() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    var ends: [Int32] = [-1, -1]
    try #require(pipe(&ends) == 0)
    let readEnd = FileDescriptor(owning: ends[0])
    defer { readEnd.close() }
    let writeEnd = FileDescriptor(owning: ends[1])
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .trigger, index: msix, start: 0, count: 4),
      fds: [
        writeEnd, writeEnd, writeEnd, writeEnd,
      ])
    writeEnd.close()  // the server holds its own copies
    for _ in 0..<9000 { try client.regionWrite(0, offset: 0, data: [3]) }
    #expect(try client.regionRead(0, offset: 0, count: 1).count == 1)
  }

  @Test func maskHoldsAndUnmaskDeliversPending() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let events = try EventFDs(count: 1)
    defer { events.close() }
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .trigger, index: 0, start: 0, count: 1), fds: events.fds)
    try client.setIRQs(IRQSet(data: .none, action: .mask, index: 0, start: 0, count: 1))
    try client.setIRQs(IRQSet(data: .none, action: .trigger, index: 0, start: 0, count: 1))
    #expect(events.count(0) == 0)
    try client.setIRQs(
      IRQSet(data: .bool, action: .unmask, index: 0, start: 0, count: 1, bools: [true]))
    #expect(events.count(0) == 1)
    // INTx is automasked: a second trigger waits for the next unmask.
    try client.setIRQs(IRQSet(data: .none, action: .trigger, index: 0, start: 0, count: 1))
    #expect(events.count(0) == 0)
    try client.setIRQs(IRQSet(data: .none, action: .unmask, index: 0, start: 0, count: 1))
    #expect(events.count(0) == 1)
  }

  @Test func maskAndUnmaskEventfdsAreSignalled() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let events = try EventFDs(count: 2)
    defer { events.close() }
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .mask, index: 0, start: 0, count: 1), fds: [events.fds[0]])
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .unmask, index: 0, start: 0, count: 1), fds: [events.fds[1]])
    try client.setIRQs(IRQSet(data: .none, action: .mask, index: 0, start: 0, count: 1))
    try client.setIRQs(IRQSet(data: .none, action: .unmask, index: 0, start: 0, count: 1))
    #expect(events.count(0) == 1)
    #expect(events.count(1) == 1)
  }

  @Test func boolTriggerFiresOnlyTheTrueOnes() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let events = try EventFDs(count: 4)
    defer { events.close() }
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .trigger, index: msix, start: 2, count: 4), fds: events.fds)
    try client.setIRQs(
      IRQSet(
        data: .bool, action: .trigger, index: msix, start: 2, count: 4,
        bools: [true, false, false, true]))
    #expect([events.count(0), events.count(1), events.count(2), events.count(3)] == [1, 0, 0, 1])
  }

  @Test func deassignWithoutFDsAndDisableAll() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let probes = (0..<2).map { _ in ClosureProbe() }
    defer { for probe in probes { probe.close() } }
    try client.setIRQs(
      IRQSet(data: .eventFD, action: .trigger, index: msix, start: 0, count: 2),
      fds: probes.map(\.writeEnd))
    for probe in probes { probe.dropOurCopy() }
    #expect(!probes[0].isReleased(waitingMilliseconds: 50))
    // DATA_EVENTFD with no descriptors de-assigns that range only.
    try client.setIRQs(IRQSet(data: .eventFD, action: .trigger, index: msix, start: 0, count: 1))
    #expect(probes[0].isReleased())
    #expect(!probes[1].isReleased(waitingMilliseconds: 50))
    // count 0 + DATA_NONE disables the whole type.
    try client.setIRQs(IRQSet(data: .none, action: .trigger, index: msix, start: 0, count: 0))
    #expect(probes[1].isReleased())
  }

  @Test func rangesPastTheCountAreRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) {
      try client.setIRQs(IRQSet(data: .none, action: .trigger, index: msix, start: 7, count: 2))
    }
    expectErrno(.invalidArgument) {
      try client.setIRQs(IRQSet(data: .none, action: .trigger, index: msix, start: 8, count: 1))
    }
    expectErrno(.invalidArgument) {
      try client.setIRQs(IRQSet(data: .none, action: .trigger, index: msix, start: .max, count: 2))
    }
    expectErrno(.invalidArgument) {
      try client.setIRQs(IRQSet(data: .none, action: .trigger, index: 5, start: 0, count: 1))
    }
    expectErrno(.invalidArgument) {
      try client.setIRQs(IRQSet(data: .none, action: .trigger, index: msix, start: 1, count: 0))
    }
  }

  @Test func badFlagCombinationsAreRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    for flags: UInt32 in [0, 1, 32, 1 | 2 | 32, 1 | 8 | 32, 1 | 32 | 64, 4 | 8 | 16] {
      var set = IRQSet(data: .none, action: .trigger, index: msix, start: 0, count: 1)
      set.flags = flags
      expectErrno(.invalidArgument) { try client.setIRQs(set) }
    }
    // MSI-X here is not maskable through SET_IRQS.
    expectErrno(.invalidArgument) {
      try client.setIRQs(IRQSet(data: .none, action: .mask, index: msix, start: 0, count: 1))
    }
    // BOOL without enough bools.
    var short = IRQSet(
      data: .bool, action: .trigger, index: msix, start: 0, count: 4, bools: [true])
    short.argsz = 24
    expectErrno(.invalidArgument) { try client.setIRQs(short) }
  }

  @Test func fdCountMustMatchAndRefusedFDsAreClosed() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let probes = (0..<3).map { _ in ClosureProbe() }
    defer { for probe in probes { probe.close() } }
    expectErrno(.invalidArgument) {
      try client.setIRQs(
        IRQSet(data: .eventFD, action: .trigger, index: msix, start: 0, count: 2),
        fds: probes.map(\.writeEnd))
    }
    for probe in probes { probe.dropOurCopy() }
    #expect(probes.allSatisfy { $0.isReleased() })
  }
}
