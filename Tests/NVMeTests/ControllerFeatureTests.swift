import BlockIO
import Testing

@testable import NVMe

/// Get/Set Features through the admin queue, one feature at a time.
@Suite struct ControllerFeatureTests {
  /// Sets `cdw11` and reads it back; returns (set status, get dw0).
  func roundTrip(_ harness: ControllerHarness, _ fid: UInt8, _ cdw11: UInt32, getCDW11: UInt32 = 0)
    -> (NVMeStatus?, UInt32?)
  {
    let set = harness.setFeature(fid, cdw11: cdw11)
    let get = harness.getFeature(fid, cdw11: getCDW11)
    #expect(get?.status == .success)
    return (set?.status, get?.dw0)
  }

  @Test func arbitrationAndTheSelectField() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.getFeature(0x01)?.dw0 == 0b111)  // no burst limit
    #expect(roundTrip(harness, 0x01, 0x0302_0103) == (.success, 0x0302_0103))
    #expect(harness.getFeature(0x01, select: 1)?.dw0 == 0b111)  // default
    #expect(harness.getFeature(0x01, select: 2)?.dw0 == 0b111)  // saved = default
    #expect(harness.getFeature(0x01, select: 3)?.dw0 == 0b100)  // changeable
    for select: UInt8 in 4...7 {
      #expect(harness.getFeature(0x01, select: select)?.status == .invalidField)
    }
  }

  @Test func powerManagementOnlyKnowsStateZero() throws {
    let harness = try ControllerHarness.ready()
    #expect(roundTrip(harness, 0x02, 2 << 5) == (.success, 2 << 5))  // PS 0, workload hint 2
    for ps: UInt32 in [1, 2, 31] {
      #expect(harness.setFeature(0x02, cdw11: ps)?.status == .invalidField)
    }
    #expect(harness.getFeature(0x02)?.dw0 == 2 << 5)
  }

  @Test func temperatureThresholdsSelectSensorAndKind() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.getFeature(0x04)?.dw0 == 343)  // over: WCTEMP
    #expect(harness.getFeature(0x04, cdw11: 1 << 20)?.dw0 == 0)  // under
    #expect(roundTrip(harness, 0x04, 350) == (.success, 350))
    #expect(roundTrip(harness, 0x04, 1 << 20 | 200, getCDW11: 1 << 20) == (.success, 200))
    // No sensors besides the composite; THSEL 10b/11b reserved.
    #expect(harness.getFeature(0x04, cdw11: 1 << 16)?.status == .invalidField)
    #expect(harness.setFeature(0x04, cdw11: 1 << 16 | 300)?.status == .invalidField)
    #expect(harness.setFeature(0x04, cdw11: 2 << 20 | 300)?.status == .invalidField)
    #expect(harness.getFeature(0x04, select: 1)?.dw0 == 343)
  }

  @Test func temperatureAtTheThresholdIsAWarning() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.setFeature(0x04, cdw11: 311)?.status == .success)
    #expect(harness.getLogPage(0x02, bytes: 4).1[0] == 0)
    #expect(harness.setFeature(0x04, cdw11: 310)?.status == .success)
    #expect(harness.getLogPage(0x02, bytes: 4).1[0] == 1 << 1)
    #expect(harness.setFeature(0x04, cdw11: 343)?.status == .success)
    #expect(harness.setFeature(0x04, cdw11: 1 << 20 | 310)?.status == .success)  // under
    #expect(harness.getLogPage(0x02, bytes: 4).1[0] == 1 << 1)
  }

  @Test func crossingTheThresholdRaisesOneSmartEvent() throws {
    let harness = try ControllerHarness.ready()
    let cids = harness.parkAERs(2)
    // Not enabled yet: no event.
    #expect(harness.setFeature(0x04, cdw11: 300)?.status == .success)
    #expect(harness.takeEvents().isEmpty)
    #expect(harness.setFeature(0x04, cdw11: 343)?.status == .success)

    #expect(harness.setFeature(0x0B, cdw11: 1 << 1)?.status == .success)
    #expect(harness.setFeature(0x04, cdw11: 300)?.status == .success)
    var events = harness.takeEvents()
    #expect(events.count == 1)
    #expect(events.first?.commandIdentifier == cids[0])
    #expect(events.first?.status == .success)
    #expect(events.first?.dw0 == 0x0002_0101)  // SMART, temperature, log 02h
    // Still over the threshold: no second event.
    #expect(harness.setFeature(0x04, cdw11: 290)?.status == .success)
    #expect(harness.takeEvents().isEmpty)
    #expect(harness.controller.session.events.requests == [cids[1]])
    // Reading the SMART log unmasks the type; a new crossing reports again.
    #expect(harness.getLogPage(0x02, bytes: 512).0 == .success)
    #expect(harness.setFeature(0x04, cdw11: 343)?.status == .success)
    #expect(harness.setFeature(0x04, cdw11: 300)?.status == .success)
    events = harness.takeEvents()
    #expect(events.map(\.commandIdentifier) == [cids[1]])
    #expect(events.first?.dw0 == 0x0002_0101)
  }

  @Test func errorRecoveryIsNamespaceScoped() throws {
    let harness = try ControllerHarness.ready()
    #expect(roundTrip(harness, 0x05, 100) == (.success, 100))
    #expect(harness.setFeature(0x05, cdw11: 1 << 16)?.status == .invalidField)  // no DULBE
    #expect(harness.getFeature(0x05, nsid: 1)?.dw0 == 100)
    #expect(harness.getFeature(0x05, nsid: 9)?.status == .invalidNamespaceOrFormat)
    #expect(harness.getFeature(0x05, select: 3)?.dw0 == 0b110)  // changeable, per namespace
  }

  @Test func setFeaturesChecksTheNamespaceScope() throws {
    let harness = try ControllerHarness.ready()
    // Controller-wide features: NSID 0 or FFFFFFFFh only.
    let scoped = harness.setFeature(0x01, cdw11: 0x0202_0203, nsid: 1)
    #expect(scoped?.status == .featureNotNamespaceSpecific)
    #expect(scoped?.status.sct == 1 && scoped?.status.sc == 0x0F)
    #expect(
      harness.setFeature(0x01, cdw11: 0x0202_0203, nsid: 33)?.status == .invalidNamespaceOrFormat)
    #expect(harness.getFeature(0x01)?.dw0 == 0b111)
    #expect(harness.setFeature(0x01, cdw11: 0x0202_0203, nsid: 0xFFFF_FFFF)?.status == .success)
    // Error Recovery is per namespace: an active NSID is fine, others are not.
    #expect(harness.setFeature(0x05, cdw11: 7, nsid: 1)?.status == .success)
    #expect(harness.setFeature(0x05, cdw11: 7, nsid: 2)?.status == .invalidNamespaceOrFormat)
  }

  @Test func disablingTheWriteCacheFlushes() throws {
    let harness = try ControllerHarness.ready(namespaceSizes: [1 << 20, 1 << 20])
    #expect(harness.getFeature(0x06)?.dw0 == 1)
    #expect(roundTrip(harness, 0x06, 0) == (.success, 0))
    #expect(harness.recorders.allSatisfy { $0.operations(.flush).count == 1 })
    #expect(roundTrip(harness, 0x06, 1) == (.success, 1))
    #expect(harness.recorders.allSatisfy { $0.operations(.flush).count == 1 })
  }

  @Test func numberOfQueuesAllocatesAndThenLocks() throws {
    let harness = try ControllerHarness()
    harness.enable()
    #expect(harness.getFeature(0x07)?.dw0 == 0x0003_0003)  // 4 of each, 0-based
    let capped = harness.setFeature(0x07, cdw11: 10 << 16 | 10)
    #expect(capped?.status == .success)
    #expect(capped?.dw0 == 0x0003_0003)
    let asked = harness.setFeature(0x07, cdw11: 0 << 16 | 1)
    #expect(asked?.dw0 == 0x0000_0001)  // 2 SQs, 1 CQ
    #expect(harness.getFeature(0x07)?.dw0 == 0x0000_0001)
    #expect(harness.setFeature(0x07, cdw11: 0xFFFF)?.status == .invalidField)
    #expect(harness.createIOQueuePair(1))
    let late = harness.setFeature(0x07, cdw11: 1 << 16 | 1)
    #expect(late?.status == .commandSequenceError)
    #expect(late?.status.sct == 0 && late?.status.sc == 0x0C)
    #expect(harness.getFeature(0x07)?.dw0 == 0x0000_0001)
    // Deleting the queues does not reopen the choice; only a reset does.
    #expect(harness.admin(.deleteIOSubmissionQueue, cdw10: 1)?.status == .success)
    #expect(harness.admin(.deleteIOCompletionQueue, cdw10: 1)?.status == .success)
    #expect(harness.setFeature(0x07, cdw11: 1 << 16 | 1)?.status == .commandSequenceError)
  }

  @Test func interruptCoalescingKeepsThresholdAndTime() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.getFeature(0x08)?.dw0 == 0)
    #expect(roundTrip(harness, 0x08, 0xFFFF_0A05) == (.success, 0x0A05))
  }

  @Test func interruptVectorConfigurationPerVector() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.getFeature(0x09, cdw11: 3)?.dw0 == 3)
    #expect(harness.setFeature(0x09, cdw11: 1 << 16 | 3)?.status == .success)
    #expect(harness.getFeature(0x09, cdw11: 3)?.dw0 == 0x1_0003)
    #expect(harness.getFeature(0x09, cdw11: 4)?.dw0 == 4)
    #expect(harness.getFeature(0x09, cdw11: 17)?.status == .invalidField)
    #expect(harness.setFeature(0x09, cdw11: 1 << 16 | 17)?.status == .invalidField)
  }

  @Test func writeAtomicityAndEventConfiguration() throws {
    let harness = try ControllerHarness.ready()
    #expect(roundTrip(harness, 0x0A, 0xFFFF_FFFF) == (.success, 1))
    #expect(roundTrip(harness, 0x0B, 0x102) == (.success, 0x102))
    // Bits the controller cannot report are dropped.
    #expect(roundTrip(harness, 0x0B, 0xFFFF_FFFF) == (.success, 0x1FF))
    #expect(harness.getFeature(0x0B, select: 1)?.dw0 == 0)
  }

  @Test func timestampRunsFromWhatTheHostSet() throws {
    let harness = try ControllerHarness.ready()
    var entry = harness.getFeature(0x0E)
    #expect(entry?.status == .success && entry?.dw0 == 0)
    var data = harness.memory.peek(ControllerHarness.dataBase, 8)
    let sinceReset = field(data, 0, as: UInt64.self)
    harness.now += 40
    _ = harness.getFeature(0x0E)
    data = harness.memory.peek(ControllerHarness.dataBase, 8)
    #expect(field(data, 0, as: UInt64.self) == sinceReset + 40)  // origin 000b, bytes 7:6 zero
    let value: UInt64 = 0x0000_0123_4567_89AB
    let bytes = withUnsafeBytes(of: value.littleEndian) { Array($0) }
    harness.memory.poke(ControllerHarness.page(2), bytes)
    #expect(harness.setFeature(0x0E, prp1: ControllerHarness.page(2))?.status == .success)
    harness.now += 250
    entry = harness.getFeature(0x0E)
    #expect(entry?.status == .success)
    data = harness.memory.peek(ControllerHarness.dataBase, 8)
    #expect(field(data, 0, as: UInt64.self) & 0xFFFF_FFFF_FFFF == value + 250)
    #expect(data[6] == 0b010)  // origin 001b: set by the host; synch 0
    #expect(data[7] == 0)
    // Data from unmapped memory is a transfer error.
    #expect(harness.setFeature(0x0E, prp1: 0x9000_0000)?.status == .dataTransferError)
  }

  @Test func hostBehaviorSupportTakesA512ByteBuffer() throws {
    let harness = try ControllerHarness.ready()
    var buffer = [UInt8](repeating: 0, count: 512)
    buffer[0] = 1
    harness.memory.poke(ControllerHarness.page(2), buffer)
    #expect(harness.setFeature(0x16, prp1: ControllerHarness.page(2))?.status == .success)
    harness.memory.poke(ControllerHarness.dataBase, [UInt8](repeating: 0xCC, count: 512))
    #expect(harness.getFeature(0x16)?.status == .success)
    #expect(harness.memory.peek(ControllerHarness.dataBase, 3) == [1, 0, 0])
    buffer[0] = 2
    harness.memory.poke(ControllerHarness.page(2), buffer)
    #expect(harness.setFeature(0x16, prp1: ControllerHarness.page(2))?.status == .invalidField)
  }

  @Test(arguments: [UInt8(0x01), 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0E, 0x16])
  func nothingIsSaveable(fid: UInt8) throws {
    let harness = try ControllerHarness()
    harness.enable()
    let before = harness.getFeature(fid, cdw11: 0)?.dw0
    let entry = harness.setFeature(fid, cdw11: 0x1, save: true)
    #expect(entry?.status == .featureIdentifierNotSaveable)
    #expect(entry?.status.sct == 1 && entry?.status.sc == 0x0D)
    #expect(harness.getFeature(fid, cdw11: 0)?.dw0 == before)
    #expect((harness.getFeature(fid, select: 3)?.dw0 ?? 1) & 1 == 0)  // not saveable
  }

  @Test(arguments: [UInt8(0x00), 0x03, 0x0C, 0x0D, 0x0F, 0x10, 0x11, 0x7F, 0x80, 0x81, 0xFF])
  func unsupportedFeaturesAreInvalidField(fid: UInt8) throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.getFeature(fid)?.status == .invalidField)
    #expect(harness.getFeature(fid, select: 3)?.status == .invalidField)
    #expect(harness.setFeature(fid, cdw11: 1)?.status == .invalidField)
  }

  @Test func resetReturnsFeaturesToDefaults() throws {
    let harness = try ControllerHarness.ready()
    #expect(harness.setFeature(0x01, cdw11: 0x0102_0304)?.status == .success)
    #expect(harness.setFeature(0x07, cdw11: 0)?.status == .commandSequenceError)
    harness.write32(RegisterOffset.cc, 0)
    harness.queues = [:]
    harness.enable()
    #expect(harness.getFeature(0x01)?.dw0 == 0b111)
    #expect(harness.setFeature(0x07, cdw11: 0)?.status == .success)  // no queues any more
  }
}
