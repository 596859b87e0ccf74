import PCI

/// Records what a function fired, in order.
final class RecordingSink: InterruptSink {
  var msixFired: [Int] = []
  var intxFired = 0

  func fireMSIX(vector: Int) { msixFired.append(vector) }
  func fireINTx() { intxFired += 1 }
}

enum Fixture {
  static let msixCapability = 0x50
  static let pmCapability = 0x40
  static let pcieCapability = 0x60

  /// An NVMe-like function: BAR0 64-bit 16 KiB holding the MSI-X table
  /// (0x2000) and PBA (0x3000), BAR2 32-bit prefetchable 8 KiB, BAR4 I/O 32.
  static let bars = [
    BARDescription(index: 0, size: 0x4000, kind: .memory64),
    BARDescription(index: 2, size: 0x2000, kind: .memory32, prefetchable: true),
    BARDescription(index: 4, size: 32, kind: .io),
  ]
  static let msix = MSIXDescription(vectors: 70, bar: 0, tableOffset: 0x2000, pbaOffset: 0x3000)

  static func function() throws -> PCIFunction {
    try PCIFunction(identity: .nvmeDefault, bars: bars, msix: msix)
  }

  /// A function wired to a recording sink. The caller keeps the sink alive
  /// (the function holds it weakly).
  static func wired() throws -> (PCIFunction, RecordingSink) {
    let function = try function()
    let sink = RecordingSink()
    function.interruptSink = sink
    return (function, sink)
  }
}

// Little-endian guest accesses through the public byte interface.
extension PCIFunction {
  func read8(_ offset: Int) -> UInt8? { configRead(offset: offset, count: 1)?.first }
  func read16(_ offset: Int) -> UInt16? { configRead(offset: offset, count: 2).map(decode) }
  func read32(_ offset: Int) -> UInt32? { configRead(offset: offset, count: 4).map(decode) }

  @discardableResult
  func write8(_ offset: Int, _ value: UInt8) -> Bool { configWrite(offset: offset, bytes: [value]) }
  @discardableResult
  func write16(_ offset: Int, _ value: UInt16) -> Bool {
    configWrite(offset: offset, bytes: encode(value))
  }
  @discardableResult
  func write32(_ offset: Int, _ value: UInt32) -> Bool {
    configWrite(offset: offset, bytes: encode(value))
  }

  /// Sets Message Control's enable and function-mask bits.
  func setMSIX(enabled: Bool, functionMasked: Bool) {
    var control: UInt16 = 0
    if enabled { control |= 0x8000 }
    if functionMasked { control |= 0x4000 }
    write16(Fixture.msixCapability + 2, control)
  }
}

func encode<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
  (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

func decode<T: FixedWidthInteger>(_ bytes: [UInt8]) -> T {
  bytes.enumerated().reduce(T(0)) { $0 | T($1.element) << ($1.offset * 8) }
}

extension MSIX {
  /// Writes one table dword of `vector`: 0 addr lo, 1 addr hi, 2 data, 3 control.
  @discardableResult
  func writeEntry(_ vector: Int, field: Int, _ value: UInt32) -> Bool {
    tableWrite(offset: vector * 16 + field * 4, bytes: encode(value))
  }

  func unmask(_ vector: Int) { writeEntry(vector, field: 3, 0) }
  func mask(_ vector: Int) { writeEntry(vector, field: 3, 1) }

  /// The PBA qword holding `vector`'s bit.
  func pbaWord(for vector: Int) -> UInt64? {
    pbaRead(offset: (vector / 64) * 8, count: 8).map(decode)
  }
}
