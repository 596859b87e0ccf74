import Glibc
import Logging
import NVMe
import PCI
import POSIX
import VFIOUser

/// The NVMe SSD as a vfio-user device: a PCI function (config space, MSI-X)
/// around an NVMe controller, with the doorbell page in shared memory.
///
/// All calls come from the reactor thread (the server's message handlers
/// and the reactor's own polling), so nothing here locks.
public final class NVMeDevice: VFIOUserDevice, InterruptSink, FunctionResetSink {
  public let function: PCIFunction
  public let controller: NVMeController
  public let doorbellMode: DoorbellMode
  private let memfd: FileDescriptor
  private let doorbellMapping: MemoryMapping
  private var dma: DMASpace?
  private var irqs: IRQTable?
  /// The client wired eventfds for MSI-X: it emulates the table itself (QEMU
  /// does, masking through SET_IRQS), so delivery goes straight to its
  /// eventfds and the table in our BAR is not consulted.
  private var msixWired = false
  /// Where the device and its controller log; silent unless the owner sets one.
  public var logger = Logger(label: "nvme-vfu", factory: { _ in SwiftLogNoOpLogHandler() }) {
    didSet { controller.logger = logger }
  }

  public init(
    settings: ControllerSettings, namespaces: [Namespace], identity: PCIIdentity = .nvmeDefault,
    doorbells: DoorbellMode = .trapped
  ) throws {
    doorbellMode = doorbells
    var settings = settings
    settings.ioQueues = max(1, min(settings.ioQueues, BAR0Layout.maxQueuePairs - 1))
    // One vector per I/O queue plus the admin queue's.
    settings.interruptVectors = settings.ioQueues + 1
    function = try PCIFunction(
      identity: identity,
      bars: [BARDescription(index: 0, size: BAR0Layout.size, kind: .memory64)],
      msix: MSIXDescription(
        vectors: settings.interruptVectors, bar: 0, tableOffset: BAR0Layout.msixTableOffset,
        pbaOffset: BAR0Layout.msixPBAOffset))
    memfd = try SharedMemory.create(name: "nvme-vfu-bar0", size: BAR0Layout.memfdSize)
    doorbellMapping = try MemoryMapping.map(
      fd: memfd, offset: BAR0Layout.doorbellOffset, length: BAR0Layout.doorbellSize,
      access: MemoryMapping.Access(read: true, write: true))
    controller = NVMeController(
      settings: settings, namespaces: namespaces, doorbells: doorbellMapping.base,
      doorbellBytes: Int(BAR0Layout.doorbellSize))
    function.interruptSink = self
    function.resetSink = self
    controller.interruptHandler = { [unowned self] vector in self.raise(vector: Int(vector)) }
  }

  deinit {
    doorbellMapping.unmap()
  }

  // MARK: VFIOUserDevice

  public var deviceFlags: UInt32 { DeviceInfo.flagReset | DeviceInfo.flagPCI }
  public var regionCount: Int { PCIRegionIndex.count }

  public func region(_ index: Int) -> RegionDescription {
    switch index {
    case PCIRegionIndex.bar0:
      // Trapped: nothing in BAR0 is mappable, which also lets QEMU post its
      // writes (it stops posting for a device with any mmappable region).
      guard doorbellMode == .mapped else { return RegionDescription(size: BAR0Layout.size) }
      return RegionDescription(
        size: BAR0Layout.size,
        mmap: RegionMmap(
          fd: memfd,
          sparseAreas: [
            SparseArea(offset: BAR0Layout.doorbellOffset, size: BAR0Layout.doorbellSize)
          ]))
    case PCIRegionIndex.config:
      return RegionDescription(size: 4096)
    default:
      return .absent
    }
  }

  public var irqInfos: [IRQInfo] {
    let vectors = UInt32(function.msix?.vectors ?? 0)
    return [
      IRQInfo(
        flags: IRQInfo.flagEventFD | IRQInfo.flagMaskable | IRQInfo.flagAutomasked,
        index: UInt32(PCIIRQIndex.intx), count: 1),
      IRQInfo(
        flags: IRQInfo.flagEventFD | IRQInfo.flagNoResize, index: UInt32(PCIIRQIndex.msi),
        count: 0),
      IRQInfo(
        flags: IRQInfo.flagEventFD | IRQInfo.flagNoResize, index: UInt32(PCIIRQIndex.msix),
        count: vectors),
      IRQInfo(flags: IRQInfo.flagEventFD, index: UInt32(PCIIRQIndex.error), count: 1),
      IRQInfo(flags: IRQInfo.flagEventFD, index: UInt32(PCIIRQIndex.request), count: 1),
    ]
  }

  public func readRegion(_ index: Int, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(Errno)
  {
    switch index {
    case PCIRegionIndex.config:
      guard let bytes = function.configRead(offset: Int(offset), count: buffer.count) else {
        throw .invalidArgument
      }
      buffer.copyBytes(from: bytes)
    case PCIRegionIndex.bar0:
      switch function.routeBARAccess(bar: 0, offset: offset, count: buffer.count) {
      case .device:
        controller.readRegisters(offset: offset, into: buffer)
      case .msixTable(let relative):
        guard let bytes = function.msix?.tableRead(offset: relative, count: buffer.count) else {
          throw .invalidArgument
        }
        buffer.copyBytes(from: bytes)
      case .msixPBA(let relative):
        guard let bytes = function.msix?.pbaRead(offset: relative, count: buffer.count) else {
          throw .invalidArgument
        }
        buffer.copyBytes(from: bytes)
      case .invalid:
        throw .invalidArgument
      }
    default:
      throw .invalidArgument
    }
  }

  public func writeRegion(_ index: Int, offset: UInt64, from data: UnsafeRawBufferPointer)
    throws(Errno)
  {
    switch index {
    case PCIRegionIndex.config:
      guard function.configWrite(offset: Int(offset), bytes: Array(data)) else {
        throw .invalidArgument
      }
    case PCIRegionIndex.bar0:
      switch function.routeBARAccess(bar: 0, offset: offset, count: data.count) {
      case .device:
        guard controller.writeRegisters(offset: offset, from: data) else {
          throw .invalidArgument
        }
      case .msixTable(let relative):
        guard function.msix?.tableWrite(offset: relative, bytes: Array(data)) == true else {
          throw .invalidArgument
        }
      case .msixPBA(let relative):
        // The PBA is read-only; writes are ignored as PCI says.
        _ = function.msix?.pbaWrite(offset: relative, bytes: Array(data))
      case .invalid:
        throw .invalidArgument
      }
    default:
      throw .invalidArgument
    }
  }

  /// DEVICE_RESET: the same whole-function reset as a guest's FLR. The
  /// client's interrupt wiring (SET_IRQS) is the VMM's and stays; QEMU
  /// tears it down and sets it up again around the reset itself.
  public func reset() throws(Errno) {
    function.functionLevelReset()
  }

  public func attach(dma: DMASpace, irqs: IRQTable) {
    self.dma = dma
    self.irqs = irqs
    controller.memory = dma
  }

  public func dmaMapped(_ region: DMARegion) { controller.memoryDidChange() }

  /// A window with a host mapping may have in-flight I/O pointing into it:
  /// that finishes before the reply (the spec: release every reference to
  /// a mapped region before replying). A window without one is reached only
  /// by DMA messages and I/O into it goes through bounce buffers, so there
  /// is nothing to wait for; a command that later finds the window gone
  /// completes with Data Transfer Error. Draining there would post
  /// completions by DMA_WRITE while the client waits for this reply, which
  /// QEMU, holding its big lock meanwhile, cannot serve.
  public func dmaWillUnmap(_ region: DMARegion) {
    guard region.isMapped else { return }
    controller.memoryWillChange()
  }

  /// The VMM is gone; its guest with it. The next client starts from a
  /// freshly reset controller (its I/O already finished when the DMA windows
  /// were unmapped).
  public func clientDisconnected() {
    msixWired = false
    controller.deviceReset()
    function.reset()
  }

  // MARK: FunctionResetSink

  /// An FLR (or a reset D3hot -> D0) from the guest, or DEVICE_RESET: the
  /// controller drains its backends with completions suppressed, so nothing
  /// reaches guest memory or fires once this returns. A config write can
  /// arrive while a turn waits on a DMA message; the controller's reset
  /// replaces its session, which that turn checks before it goes on.
  public func functionWillReset() {
    logger.info("function reset: controller, MSI-X and config space back to defaults")
    controller.deviceReset()
  }

  // MARK: InterruptSink

  public func fireMSIX(vector: Int) {
    if irqs?.fire(index: PCIIRQIndex.msix, vector: vector) != true {
      logger.debug("MSI-X vector \(vector) not delivered (masked or no eventfd)")
    }
  }

  public func fireINTx() {
    if irqs?.fire(index: PCIIRQIndex.intx, vector: 0) != true {
      logger.debug("INTx not delivered (masked or no eventfd)")
    }
  }

  public func irqsChanged(index: Int) {
    let count = irqInfos.first { $0.index == UInt32(index) }.map { Int($0.count) } ?? 0
    let wired = (0..<count).filter { irqs?.triggerFD(index: index, vector: $0) != nil }
    if index == PCIIRQIndex.msix { msixWired = !wired.isEmpty }
    logger.debug("interrupts of index \(index) wired: vectors \(wired)")
  }

  /// Raises controller interrupt `vector`: through the client's MSI-X
  /// eventfds when it wired them, else through the PCI function (its own
  /// MSI-X table, or INTx when MSI-X is off).
  func raise(vector: Int) {
    if msixWired {
      fireMSIX(vector: vector)
    } else {
      function.signal(vector: vector)
    }
  }
}

extension DMASpace: GuestMemory {}
