import BackendContract
import BlockIO
import NVMe
import Testing

/// Hot-add, removal and resize on the controller (the control socket's
/// namespace methods, on the reactor thread).
@Suite struct ControllerNamespaceChangeTests {
  static func changedList(_ harness: ControllerHarness) -> [UInt32] {
    let (status, page) = harness.getLogPage(0x04, bytes: 16)
    #expect(status == .success)
    return (0..<4).map { field(page, $0 * 4, as: UInt32.self) }.filter { $0 != 0 }
  }

  @Test func attachServesAtOnceAndTellsTheHost() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.setFeature(0x0B, cdw11: 1 << 8)?.status == .success)
    _ = harness.parkAERs(1)
    let backend = try #require(MemoryBackend(size: 2 << 20))
    let nsid = try #require(harness.controller.freeNamespaceID())
    #expect(nsid == 2)
    try harness.controller.attach(try #require(Namespace(id: nsid, backend: backend)))
    harness.controller.poll()
    #expect(harness.takeEvents().map(\.dw0) == [0x0004_0002])
    #expect(Self.changedList(harness) == [2])
    let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    #expect(harness.write(data, nsid: 2, slba: 4) == .success)
    #expect(harness.read(nsid: 2, slba: 4, blocks: 8).1 == data)
    #expect(throws: NamespaceChangeError.namespaceIDInUse(2)) {
      try harness.controller.attach(try #require(Namespace(id: 2, backend: backend)))
    }
    #expect(throws: NamespaceChangeError.self) {
      try harness.controller.attach(try #require(Namespace(id: 33, backend: backend)))
    }
  }

  /// The index hazard: removing a lower NSID shifts the array under I/O of a
  /// higher one. That I/O, held in its backend, must still complete for the
  /// right namespace, and the removed one's held write must complete too.
  @Test func detachCompletesHeldIOEverywhereThenRefusesTheNamespace() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [1 << 20, 1 << 20])
    harness.recorders[0].holding = true
    harness.recorders[1].holding = true
    let page = ControllerHarness.page(16)
    harness.memory.poke(page, [UInt8](repeating: 0x5A, count: 512))
    let first = harness.makeCID()
    let second = harness.makeCID()
    harness.push(
      ControllerHarness.rw(.write, nsid: 1, slba: 1, blocks: 1, prp1: page, cid: first), queue: 1)
    harness.push(
      ControllerHarness.rw(.write, nsid: 2, slba: 3, blocks: 1, prp1: page, cid: second), queue: 1)
    harness.controller.poll()
    #expect(harness.controller.commandsInFlight == 2)
    let removed = try harness.controller.detach(nsid: 1)
    #expect(removed.id == 1)
    let completions = harness.drain(queue: 1)
    #expect(Set(completions.map(\.commandIdentifier)) == [first, second])
    #expect(completions.allSatisfy { $0.status == .success })
    #expect(
      harness.stored(nsid: 1, offset: 512, count: 512) == [UInt8](repeating: 0x5A, count: 512))
    #expect(
      harness.stored(nsid: 2, offset: 1536, count: 512) == [UInt8](repeating: 0x5A, count: 512))
    harness.recorders[1].holding = false
    #expect(harness.read(nsid: 1, slba: 0, blocks: 1).0 == .invalidNamespaceOrFormat)
    #expect(harness.read(nsid: 2, slba: 3, blocks: 1).0 == .success)
    #expect(throws: NamespaceChangeError.noSuchNamespace(1)) {
      _ = try harness.controller.detach(nsid: 1)
    }
    // Identify of the now inactive NSID is zeroed, not an error.
    let (status, data) = harness.identify(cns: 0, nsid: 1)
    #expect(status == .success)
    #expect(data.allSatisfy { $0 == 0 })
  }

  @Test func resizeKeepsDataAndRefusesToLoseIt() throws {
    let harness = try ControllerHarness.ready()
    let data = [UInt8](repeating: 0xC3, count: 4096)
    #expect(harness.write(data, slba: 1000) == .success)  // bytes 512000 ..< 516096
    try harness.controller.resize(nsid: 1, to: 2 << 20, force: false)
    #expect(field(harness.identify(cns: 0, nsid: 1).1, 0, as: UInt64.self) == (2 << 20) / 512)
    #expect(harness.read(slba: 1000, blocks: 8).1 == data)
    #expect(harness.read(slba: 4000, blocks: 1).0 == .success)  // the new part reads
    #expect(throws: NamespaceChangeError.self) {
      try harness.controller.resize(nsid: 1, to: 256 << 10, force: false)
    }
    #expect(field(harness.identify(cns: 0, nsid: 1).1, 0, as: UInt64.self) == (2 << 20) / 512)
    #expect(throws: NamespaceChangeError.sizeNotBlockMultiple(bytes: 1000, blockSize: 512)) {
      try harness.controller.resize(nsid: 1, to: 1000, force: false)
    }
    #expect(throws: NamespaceChangeError.zeroSize) {
      try harness.controller.resize(nsid: 1, to: 0, force: true)
    }
    try harness.controller.resize(nsid: 1, to: 256 << 10, force: true)
    #expect(harness.read(slba: 1000, blocks: 1).0 == .lbaOutOfRange)
  }

  @Test func resizeOfAReadOnlyNamespaceIsRefused() throws {
    let harness = try ControllerHarness.ready(readOnly: [1])
    #expect(throws: NamespaceChangeError.readOnly(1)) {
      try harness.controller.resize(nsid: 1, to: 2 << 20, force: false)
    }
  }
}
