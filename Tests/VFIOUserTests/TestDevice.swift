import POSIX
import Synchronization
import VFIOUser

/// What the device saw, shared with the test thread.
final class DeviceLog: Sendable {
  struct State {
    var resets = 0
    var mapped: [DMARegion] = []
    var unmapped: [DMARegion] = []
    var irqChanges: [Int] = []
    var connects = 0
    var disconnects = 0
  }

  private let state = Mutex(State())

  func update(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }
  var snapshot: State { state.withLock { $0 } }
}

/// A tiny PCI-shaped device for protocol tests (tests only, per the issue):
/// - region 0 (BAR0, 8 KiB): trapped registers in the first page, a memfd-backed
///   mmappable second page exposed as a sparse area.
///     0x00 write N: fire MSI-X vector N     0x08 DMA address   0x10 DMA length
///     0x18 write 1: guest -> buffer, 2: buffer -> guest        0x20 last DMA errno
///     0x800..0x1000: the DMA buffer
/// - region 1: 16 read-only bytes; region 7: 256-byte config space; others absent.
/// - IRQs: INTx (1, maskable, automasked), MSI (1), MSI-X (8), ERR (1), REQ (1).
final class TestDevice: VFIOUserDevice {
  static let bar0Size: UInt64 = 0x2000
  static let msixIndex = 2

  let log: DeviceLog
  let memfd: FileDescriptor
  let page: MemoryMapping
  var registers = [UInt8](repeating: 0, count: 0x1000)
  var config = [UInt8](repeating: 0, count: 256)
  var dma: DMASpace?
  var irqs: IRQTable?

  init(log: DeviceLog) throws {
    self.log = log
    memfd = try SharedMemory.create(name: "test-bar0", size: Self.bar0Size)
    page = try MemoryMapping.map(fd: memfd, offset: 0x1000, length: 0x1000, access: .readWrite)
    config[0] = 0x34
    config[1] = 0x12
  }

  deinit {
    page.unmap()
  }

  let deviceFlags = DeviceInfo.flagReset | DeviceInfo.flagPCI
  let regionCount = 9

  func region(_ index: Int) -> RegionDescription {
    switch index {
    case 0:
      RegionDescription(
        size: Self.bar0Size,
        mmap: RegionMmap(
          fd: memfd, offset: 0, sparseAreas: [SparseArea(offset: 0x1000, size: 0x1000)]))
    case 1: RegionDescription(size: 16, readable: true, writable: false)
    case 7: RegionDescription(size: 256)
    default: .absent
    }
  }

  let irqInfos: [IRQInfo] = [
    IRQInfo(
      flags: IRQInfo.flagEventFD | IRQInfo.flagMaskable | IRQInfo.flagAutomasked, index: 0, count: 1
    ),
    IRQInfo(flags: IRQInfo.flagEventFD, index: 1, count: 1),
    IRQInfo(flags: IRQInfo.flagEventFD | IRQInfo.flagNoResize, index: 2, count: 8),
    IRQInfo(flags: IRQInfo.flagEventFD, index: 3, count: 1),
    IRQInfo(flags: IRQInfo.flagEventFD, index: 4, count: 1),
  ]

  func readRegion(_ index: Int, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno)
  {
    let start = Int(offset)
    switch index {
    case 0:
      for i in 0..<buffer.count {
        let at = start + i
        buffer[i] = at < 0x1000 ? registers[at] : page.buffer[at - 0x1000]
      }
    case 1: for i in 0..<buffer.count { buffer[i] = UInt8(start + i) }
    case 7: for i in 0..<buffer.count { buffer[i] = config[start + i] }
    default: throw .invalidArgument
    }
  }

  func writeRegion(_ index: Int, offset: UInt64, from data: UnsafeRawBufferPointer)
    throws(Errno)
  {
    let start = Int(offset)
    switch index {
    case 0:
      for i in 0..<data.count {
        let at = start + i
        if at < 0x1000 { registers[at] = data[i] } else { page.buffer[at - 0x1000] = data[i] }
      }
      if start == 0x00 { irqs?.fire(index: Self.msixIndex, vector: Int(data[0])) }
      if start == 0x18 { runDMA(op: data[0]) }
    case 7: for i in 0..<data.count { config[start + i] = data[i] }
    default: throw .invalidArgument
    }
  }

  private func register64(_ offset: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(registers[offset + $1]) << (8 * $1) }
  }

  private func runDMA(op: UInt8) {
    let address = register64(0x08)
    let length = min(Int(register64(0x10)), 0x800)
    var status: Int32 = 0
    do throws(Errno) {
      guard let dma else { throw .badAddress }
      var buffer = [UInt8](repeating: 0, count: length)
      if op == 1 {
        try Self.withBytes(&buffer) { b throws(Errno) in try dma.read(address, into: b) }
        registers.replaceSubrange(0x800..<0x800 + length, with: buffer)
      } else {
        buffer = Array(registers[0x800..<0x800 + length])
        try Self.withBytes(&buffer) { b throws(Errno) in
          try dma.write(address, from: UnsafeRawBufferPointer(b))
        }
      }
    } catch {
      status = error.code
    }
    withUnsafeBytes(of: status) { registers.replaceSubrange(0x20..<0x24, with: $0) }
  }

  /// A typed-throws bridge over withUnsafeMutableBytes.
  private static func withBytes(
    _ array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(Errno) -> Void
  ) throws(Errno) {
    let base = UnsafeMutableRawBufferPointer.allocate(byteCount: max(array.count, 1), alignment: 8)
    defer { base.deallocate() }
    let buffer = UnsafeMutableRawBufferPointer(rebasing: base[0..<array.count])
    buffer.copyBytes(from: array)
    try body(buffer)
    array = Array(buffer)
  }

  func reset() throws(Errno) {
    registers = [UInt8](repeating: 0, count: 0x1000)
    log.update { $0.resets += 1 }
  }

  func attach(dma: DMASpace, irqs: IRQTable) {
    self.dma = dma
    self.irqs = irqs
  }

  func dmaMapped(_ region: DMARegion) { log.update { $0.mapped.append(region) } }
  func dmaWillUnmap(_ region: DMARegion) { log.update { $0.unmapped.append(region) } }
  func irqsChanged(index: Int) { log.update { $0.irqChanges.append(index) } }
  func clientConnected() { log.update { $0.connects += 1 } }
  func clientDisconnected() { log.update { $0.disconnects += 1 } }
}
