import Testing

@testable import PCI

@Suite("Interrupt delivery")
struct InterruptTests {
  @Test("unmasked vector with MSI-X enabled fires immediately")
  func directFire() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: false)
    msix.unmask(3)
    function.signal(vector: 3)
    #expect(sink.msixFired == [3])
    #expect(!msix.isPending(vector: 3))
    #expect(sink.intxFired == 0)
  }

  @Test("signal while vector masked sets PBA; unmask fires exactly once and clears it")
  func vectorMaskPending() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: false)
    function.signal(vector: 7)
    function.signal(vector: 7)
    #expect(sink.msixFired.isEmpty)
    #expect(msix.pbaWord(for: 7) == 1 << 7)
    msix.unmask(7)
    #expect(sink.msixFired == [7])
    #expect(msix.pbaWord(for: 7) == 0)
    // Masking and unmasking again with nothing pending fires nothing.
    msix.mask(7)
    msix.unmask(7)
    #expect(sink.msixFired == [7])
  }

  @Test("function mask holds every vector; clearing it fires the unmasked pending ones")
  func functionMaskPending() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: true)
    msix.unmask(1)
    msix.unmask(66)
    function.signal(vector: 1)
    function.signal(vector: 66)
    function.signal(vector: 2)  // individually masked too
    #expect(sink.msixFired.isEmpty)
    #expect(msix.isPending(vector: 1) && msix.isPending(vector: 66) && msix.isPending(vector: 2))
    function.setMSIX(enabled: true, functionMasked: false)
    #expect(sink.msixFired == [1, 66])
    #expect(!msix.isPending(vector: 1) && !msix.isPending(vector: 66))
    #expect(msix.isPending(vector: 2))
    msix.unmask(2)
    #expect(sink.msixFired == [1, 66, 2])
  }

  @Test("unmasking a pending vector while the function is masked does not fire")
  func unmaskUnderFunctionMask() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: true)
    function.signal(vector: 4)
    msix.unmask(4)
    #expect(sink.msixFired.isEmpty)
    #expect(msix.isPending(vector: 4))
  }

  @Test("enabling MSI-X delivers vectors left pending while it was disabled")
  func enableFiresPending() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: false)
    function.signal(vector: 9)  // masked -> pending
    function.setMSIX(enabled: false, functionMasked: false)
    msix.unmask(9)  // MSI-X off: no delivery yet
    #expect(sink.msixFired.isEmpty)
    function.setMSIX(enabled: true, functionMasked: false)
    #expect(sink.msixFired == [9])
    #expect(!msix.isPending(vector: 9))
  }

  @Test("setMasked from outside behaves like a table unmask")
  func externalUnmask() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: false)
    function.signal(vector: 0)
    msix.setMasked(vector: 0, false)
    #expect(sink.msixFired == [0])
    #expect(msix.tableRead(offset: 12, count: 4) == [0, 0, 0, 0])
  }

  @Test("MSI-X disabled: INTx fires and sets Interrupt Status; deassert clears it")
  func intxFallback() throws {
    let (function, sink) = try Fixture.wired()
    function.signal(vector: 0)
    #expect(sink.intxFired == 1)
    #expect(sink.msixFired.isEmpty)
    #expect(function.read16(0x06).map { $0 & 0x0008 } == 0x0008)
    // Interrupt Status is RO to the guest.
    function.write16(0x06, 0x0008)
    #expect(function.intxAsserted)
    function.deassertINTx()
    #expect(function.read16(0x06).map { $0 & 0x0008 } == 0)
  }

  @Test("INTx Disable suppresses the pin but not Interrupt Status; clearing it fires")
  func intxDisable() throws {
    let (function, sink) = try Fixture.wired()
    function.write16(0x04, 0x0400)
    function.signal(vector: 0)
    #expect(sink.intxFired == 0)
    #expect(function.intxAsserted)
    function.write16(0x04, 0x0000)
    #expect(sink.intxFired == 1)
  }

  @Test("enabling MSI-X deasserts INTx")
  func msixEnableDeassertsINTx() throws {
    let (function, sink) = try Fixture.wired()
    function.signal(vector: 0)
    #expect(function.intxAsserted)
    function.setMSIX(enabled: true, functionMasked: false)
    #expect(!function.intxAsserted)
    #expect(sink.msixFired.isEmpty)
  }

  @Test("out-of-range vectors are ignored on both paths")
  func outOfRangeVectors() throws {
    let (function, sink) = try Fixture.wired()
    let msix = try #require(function.msix)
    for vector in [-1, 70, 2048, Int.max, Int.min] { function.signal(vector: vector) }
    #expect(sink.intxFired == 0)
    function.setMSIX(enabled: true, functionMasked: false)
    for vector in [-1, 70, 2048, Int.max, Int.min] {
      function.signal(vector: vector)
      msix.setMasked(vector: vector, false)
      #expect(msix.isMasked(vector: vector))
      #expect(!msix.isPending(vector: vector))
      #expect(msix.entry(vector: vector) == nil)
    }
    #expect(sink.msixFired.isEmpty)
    #expect(msix.pbaRead(offset: 0, count: 8) == Array(repeating: 0, count: 8))
  }

  @Test("without MSI-X only vector 0 signals INTx")
  func noMSIXVectors() throws {
    let function = try PCIFunction(bars: [], msix: nil)
    let sink = RecordingSink()
    function.interruptSink = sink
    function.signal(vector: 1)
    function.signal(vector: 0)
    #expect(sink.intxFired == 1)
  }

  @Test("the sink is held weakly")
  func weakSink() throws {
    let function = try Fixture.function()
    do {
      let sink = RecordingSink()
      function.interruptSink = sink
      #expect(function.interruptSink != nil)
    }
    #expect(function.interruptSink == nil)
    function.signal(vector: 0)  // no sink: must not crash
  }

  /// A sink that signals again from inside the callback.
  final class ReentrantSink: InterruptSink {
    weak var function: PCIFunction?
    var fired: [Int] = []
    func fireMSIX(vector: Int) {
      fired.append(vector)
      if fired.count == 1 { function?.signal(vector: vector) }
    }
    func fireINTx() {}
  }

  @Test("a sink that re-enters signal during a pending flush sees consistent state")
  func reentrantSink() throws {
    let function = try Fixture.function()
    let sink = ReentrantSink()
    sink.function = function
    function.interruptSink = sink
    let msix = try #require(function.msix)
    function.setMSIX(enabled: true, functionMasked: true)
    msix.unmask(3)
    function.signal(vector: 3)
    function.setMSIX(enabled: true, functionMasked: false)
    // First fire from the flush, second from the re-entrant signal.
    #expect(sink.fired == [3, 3])
    #expect(!msix.isPending(vector: 3))
  }
}
