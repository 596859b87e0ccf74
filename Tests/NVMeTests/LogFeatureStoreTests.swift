import Testing

@testable import NVMe

// Feature data tests live under a Log* name so the `Identify|Log` test filter
// covers them (features share the Get-with-selector shape of log pages).

@Suite("Features: Get/Set data logic")
struct LogFeatureStoreTests {
  static func store() -> FeatureStore {
    FeatureStore(
      limits: .init(
        maximumIOQueues: 8, interruptVectors: 9, temperatureSensors: 2,
        keepAliveGranularity: 10))
  }

  @Test("Number of queues: 0-based, capped by the maximum, FFFFh rejected")
  func numberOfQueues() {
    var q = NumberOfQueues(maximum: 8)
    #expect(q.dword0 == 0x0007_0007)  // before Set: what could be allocated
    #expect(q.set(cdw11: 0x0001_0003) == 0x0001_0003)  // 4 SQs, 2 CQs
    #expect(q.set(cdw11: 0x0040_0040) == 0x0007_0007)  // 65 each, capped at 8
    #expect(q.set(cdw11: 0x0000_0000) == 0)  // one of each
    #expect(q.set(cdw11: 0x0000_FFFF) == nil)
    #expect(q.set(cdw11: 0xFFFF_0000) == nil)
  }

  @Test("Temperature thresholds: defaults, TMPSEL/THSEL selection, all-sensors set")
  func temperature() {
    var t = TemperatureThresholds(warningTemperature: 343, implementedSensors: 2)
    #expect(t.get(cdw11: 0) == 343)  // composite over
    #expect(t.get(cdw11: 1 << 20) == 0)  // composite under
    #expect(t.get(cdw11: 1 << 16) == 0xFFFF)  // sensor 1 over
    #expect(t.get(cdw11: 3 << 16) == nil)  // sensor 3 not implemented
    #expect(t.get(cdw11: 2 << 20) == nil)  // reserved THSEL
    #expect(t.get(cdw11: 0xF << 16) == nil)  // "all" is Set-only
    let ok1 = t.set(cdw11: 0xF << 16 | 350)
    #expect(ok1)
    #expect(t.get(cdw11: 0) == 350)
    #expect(t.get(cdw11: 2 << 16) == 350)
    let ok2 = t.set(cdw11: 1 << 20 | 1 << 16 | 270)
    #expect(ok2)
    #expect(t.get(cdw11: 1 << 20 | 1 << 16) == 270)
    #expect(t.compositeOutOfRange(351))
    #expect(!t.compositeOutOfRange(300))
  }

  @Test("Timestamp: origin reset vs host, 48-bit wrap, 8-byte data")
  func timestamp() {
    var ts = TimestampFeature(resetAt: 1000)
    var b = ts.encode(now: 1500)
    #expect(DataPage.read(UInt64.self, from: b, at: 0) == 500)  // bytes 7:6 zero too
    let ok3 = ts.set(data: [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xAA, 0xBB], now: 2000)
    #expect(ok3)
    b = ts.encode(now: 2005)
    #expect(Array(b[0..<6]) == [0x03, 0, 0, 0, 0, 0])  // wrapped at 48 bits
    #expect(b[6] == 0b0010)  // origin 001b, synch 0
    #expect(b[7] == 0)
    let ok4 = ts.set(data: [1, 2, 3], now: 0)
    #expect(!ok4)
  }

  @Test("Interrupt vector configuration: per-vector CD bit, IV bounds")
  func interruptVectors() {
    var iv = InterruptVectorConfiguration(vectorCount: 4)
    #expect(iv.get(cdw11: 2) == 2)
    let ok5 = iv.set(cdw11: 1 << 16 | 2)
    #expect(ok5)
    let cdVector2: UInt32 = 1 << 16 | 2
    #expect(iv.get(cdw11: 2) == cdVector2)
    #expect(iv.isCoalescingDisabled(vector: 2))
    #expect(iv.get(cdw11: 4) == nil)
    let ok6 = iv.set(cdw11: 1 << 16 | 9)
    #expect(!ok6)
  }

  @Test("SEL: current vs default vs saved vs supported capabilities")
  func select() throws {
    var s = Self.store()
    #expect(s.set(.volatileWriteCache, cdw11: 0) == 0)
    #expect(s.get(.volatileWriteCache, select: .current)?.dword0 == 0)
    #expect(s.get(.volatileWriteCache, select: .defaultValue)?.dword0 == 1)
    #expect(s.get(.volatileWriteCache, select: .saved)?.dword0 == 1)
    #expect(s.get(.volatileWriteCache, select: .supportedCapabilities)?.dword0 == 0b100)
    #expect(s.get(.errorRecovery, select: .supportedCapabilities)?.dword0 == 0b110)
    #expect(s.set(.numberOfQueues, cdw11: 0x0003_0003) == 0x0003_0003)
    #expect(s.get(.numberOfQueues, select: .current)?.dword0 == 0x0003_0003)
    #expect(s.get(.numberOfQueues, select: .defaultValue)?.dword0 == 0x0007_0007)
    let decoded = FeatureSelect.decode(cdw10: 0x0000_0307)
    #expect(decoded.fid == 7 && decoded.select == .supportedCapabilities)
    #expect(FeatureSelect.decode(cdw10: 0x0000_0407).select == nil)
  }

  @Test("Set validation: power state, DULBE, keep alive rounding, async mask, unsupported")
  func validation() {
    var s = Self.store()
    #expect(s.set(.powerManagement, cdw11: 1) == nil)  // only PS0 exists
    #expect(s.set(.powerManagement, cdw11: 0) == 0)
    #expect(s.set(.errorRecovery, cdw11: 1 << 16) == nil)
    #expect(s.set(.keepAliveTimer, cdw11: 1500) == 0)
    #expect(s.get(.keepAliveTimer, select: .current)?.dword0 == 2000)  // KAS = 1 s
    #expect(s.set(.asynchronousEventConfiguration, cdw11: 0xFFFF_FFFF) == 0)
    #expect(s.get(.asynchronousEventConfiguration, select: .current)?.dword0 == 0x1FF)
    #expect(s.set(.hostMemoryBuffer, cdw11: 1) == nil)
    #expect(s.get(.lbaRangeType, select: .current) == nil)
  }

  @Test("Host behavior support is a 512-byte structure with 0/1 flags")
  func hostBehavior() {
    var s = Self.store()
    var data = [UInt8](repeating: 0, count: 512)
    data[0] = 1
    #expect(s.set(.hostBehaviorSupport, cdw11: 0, data: data) == 0)
    let reply = s.get(.hostBehaviorSupport, select: .current)
    #expect(reply?.data?.count == 512)
    #expect(reply?.data?.first == 1)
    data[1] = 2
    #expect(s.set(.hostBehaviorSupport, cdw11: 0, data: data) == nil)
    #expect(s.set(.hostBehaviorSupport, cdw11: 0, data: [1]) == nil)
  }

  @Test("Timestamp through the store: Get returns 8 bytes of data")
  func storeTimestamp() {
    var s = Self.store()
    #expect(s.set(.timestamp, cdw11: 0, data: [0x10, 0, 0, 0, 0, 0, 0, 0], now: 100) == 0)
    let reply = s.get(.timestamp, select: .current, now: 150)
    #expect(reply?.data == [0x10 + 50, 0, 0, 0, 0, 0, 0b10, 0])
  }
}
