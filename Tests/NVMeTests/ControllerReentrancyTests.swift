import TestSupport
import Testing

@testable import NVMe

/// Guest memory shared without descriptors is copied by DMA message
/// exchanges, during which the server serves the client: a DMA_UNMAP or a
/// DEVICE_RESET then reaches the controller in the middle of reading an SQE,
/// writing a CQE or copying data. `ReenteringMemory` plays that client.
/// Each case was found by the vfio-stream fuzz target.
@Suite struct ControllerReentrancyTests {
  /// Forwards to the harness's memory without host pointers (the copy path)
  /// and runs `action` once, inside the first access that `trigger` picks.
  final class ReenteringMemory: GuestMemory {
    let inner: WindowedGuestMemory
    private var trigger: ((UInt64, Bool) -> Bool)?
    private var action: (() -> Void)?
    private(set) var fired = false
    /// Every access fails while set (the client unmapped its memory).
    var unmapped = false

    init(_ inner: WindowedGuestMemory) { self.inner = inner }

    /// `trigger(address, isWrite)` chooses the access.
    func arm(_ trigger: @escaping (UInt64, Bool) -> Bool, then action: @escaping () -> Void) {
      self.trigger = trigger
      self.action = action
    }

    func translate(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer? {
      nil
    }

    func read(_ address: UInt64, into: UnsafeMutableRawBufferPointer) throws {
      fire(address, false)
      if unmapped { throw WindowedGuestMemory.Unmapped() }
      try inner.read(address, into: into)
    }

    func write(_ address: UInt64, from: UnsafeRawBufferPointer) throws {
      fire(address, true)
      if unmapped { throw WindowedGuestMemory.Unmapped() }
      try inner.write(address, from: from)
    }

    private func fire(_ address: UInt64, _ isWrite: Bool) {
      guard let trigger, trigger(address, isWrite), let action else { return }
      self.trigger = nil
      fired = true
      action()
    }
  }

  /// The admin rings `ControllerHarness.enable` sets up (32 entries each).
  static let adminSQRing = ControllerHarness.adminSQ..<(ControllerHarness.adminSQ + 32 * 64)
  static let adminCQRing = ControllerHarness.adminCQ..<(ControllerHarness.adminCQ + 32 * 16)

  /// An 8-block read into `buffer` on I/O queue 1.
  static func pushRead(_ harness: ControllerHarness, commandID: UInt16, into buffer: UInt64) {
    harness.push(
      SubmissionQueueEntry(
        opcode: NVMOpcode.read.rawValue, commandIdentifier: commandID, namespaceIdentifier: 1,
        prp1: buffer, cdw12: 7),
      queue: 1)
  }

  static func reentering() throws -> (ControllerHarness, ReenteringMemory) {
    let harness = try ControllerHarness.ready()
    let memory = ReenteringMemory(harness.memory)
    harness.controller.memory = memory
    harness.controller.memoryDidChange()
    return (harness, memory)
  }

  /// Regressions/vfio-stream/crash-a757ced1...: the SQ ring was mutably
  /// accessed across its guest read, and the unmap's ring invalidation
  /// trapped ("Fatal access conflict").
  @Test func unmapDuringSubmissionFetch() throws {
    let (harness, memory) = try Self.reentering()
    memory.arm { address, _ in
      Self.adminSQRing.contains(address)
    } then: {
      harness.controller.memoryWillChange()
    }
    let (status, data) = harness.identify(cns: 1)
    #expect(memory.fired)
    #expect(status == .success)
    #expect(data.prefix(2) == [0x56, 0x4E])
  }

  /// The same on the completion side: the CQE write is the exchange.
  @Test func unmapDuringCompletionPost() throws {
    let (harness, memory) = try Self.reentering()
    memory.arm { address, isWrite in
      isWrite && Self.adminCQRing.contains(address)
    } then: {
      harness.controller.memoryWillChange()
    }
    let entry = try #require(
      harness.run(
        SubmissionQueueEntry(opcode: AdminOpcode.keepAlive.rawValue, commandIdentifier: 0x77)))
    #expect(memory.fired)
    #expect(entry.commandIdentifier == 0x77)
  }

  /// A device reset while an SQE is fetched: the queue is gone when the
  /// fetch returns, and its command goes with it (it must not create a queue
  /// on a controller that was just reset).
  @Test func resetDuringSubmissionFetch() throws {
    let (harness, memory) = try Self.reentering()
    memory.arm { address, _ in
      Self.adminSQRing.contains(address)
    } then: {
      harness.controller.deviceReset()
    }
    harness.push(
      SubmissionQueueEntry(
        opcode: AdminOpcode.createIOCompletionQueue.rawValue, commandIdentifier: 0x55,
        prp1: ControllerHarness.ramBase + 0x7_0000, cdw10: 15 << 16 | 2, cdw11: 1))
    harness.controller.poll()
    #expect(memory.fired)
    #expect(!harness.controller.isReady)
    #expect(harness.controller.session.activeSubmissionIDs.isEmpty)
    #expect(harness.controller.session.activeCompletionIDs.isEmpty)
  }

  /// Regressions/nvme-commands/crash-d151a208...: the client resets the
  /// device and unmaps its memory while an SQE is fetched; the fetch fails,
  /// and reporting that as CSTS.CFS on the reset controller (CC.EN already 0)
  /// left CFS set for good: no CC write could clear it, enabling was refused.
  @Test func resetAndUnmapDuringFailingFetch() throws {
    let (harness, memory) = try Self.reentering()
    memory.arm { address, _ in
      Self.adminSQRing.contains(address)
    } then: {
      harness.controller.deviceReset()
      memory.unmapped = true
    }
    harness.push(SubmissionQueueEntry(opcode: AdminOpcode.keepAlive.rawValue, commandIdentifier: 3))
    harness.controller.poll()
    #expect(memory.fired)
    #expect(harness.csts == 0)
    memory.unmapped = false
    harness.enable()
    harness.controller.poll()
    #expect(harness.csts & 3 == 1)
    #expect(harness.identify(cns: 1).0 == .success)
  }

  /// Seed vfio-stream/seed-fdless-data-nested-reset: a device reset while a
  /// read's bounce buffer is copied to the guest freed that buffer under the
  /// copy (heap-use-after-free under ASan) and released the command's slot
  /// twice (the in-flight count went to -1).
  @Test func resetDuringBounceCopyToGuest() throws {
    let (harness, memory) = try Self.reentering()
    let buffer = ControllerHarness.page(16)
    memory.arm { address, isWrite in
      isWrite && address == buffer
    } then: {
      harness.controller.deviceReset()
    }
    Self.pushRead(harness, commandID: 9, into: buffer)
    harness.controller.poll()
    #expect(memory.fired)
    #expect(harness.controller.commandsInFlight == 0)
    // And it serves again after the host brings it back up.
    harness.enable()
    harness.controller.poll()
    #expect(harness.createIOQueuePair(1))
    #expect(harness.readWrite(.read, slba: 0, blocks: 8, prp1: buffer) == .success)
    #expect(harness.controller.commandsInFlight == 0)
  }

  /// A CC write that arrives during a fetch waits for the end of the turn:
  /// the command fetched meanwhile still runs on the enabled controller, and
  /// the disable then takes effect.
  @Test func configurationWriteDuringFetchWaitsForTheTurn() throws {
    let (harness, memory) = try Self.reentering()
    var readyInside: Bool?
    memory.arm { address, _ in
      Self.adminSQRing.contains(address)
    } then: {
      harness.write32(RegisterOffset.cc, 0)
      readyInside = harness.controller.isReady
    }
    harness.push(SubmissionQueueEntry(opcode: AdminOpcode.keepAlive.rawValue, commandIdentifier: 4))
    harness.controller.poll()
    #expect(memory.fired)
    #expect(readyInside == true)
    #expect(harness.csts == 0)
    #expect(harness.controller.session.activeSubmissionIDs.isEmpty)
  }

  /// A device reset while a shutdown's drain copies a read to the guest: the
  /// reset wins, and the shutdown finishing afterwards must not report SHST
  /// complete on the reset controller.
  @Test func resetDuringShutdownDrain() throws {
    let (harness, memory) = try Self.reentering()
    let buffer = ControllerHarness.page(16)
    harness.recorders[0].holding = true
    Self.pushRead(harness, commandID: 5, into: buffer)
    harness.controller.poll()
    #expect(harness.controller.commandsInFlight == 1)
    memory.arm { address, isWrite in
      isWrite && address == buffer
    } then: {
      harness.controller.deviceReset()
    }
    harness.write32(RegisterOffset.cc, ControllerHarness.enableCC | 1 << 14)
    #expect(harness.csts == 1 | 0b01 << 2)
    harness.controller.poll()
    #expect(memory.fired)
    #expect(harness.csts == 0)
    #expect(harness.controller.commandsInFlight == 0)
  }
}
