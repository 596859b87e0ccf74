import BackendContract
import BlockIO
import Glibc
import NVMe
import TestSupport

/// One input's world: controller, namespaces, guest memory, doorbell page
/// and the host's view of the queues.
final class CommandRig {
  /// Fixed host placements in the main window.
  static let adminSQ: UInt64 = 0x0
  static let adminCQ: UInt64 = 0x1000
  static func ioCQ(_ qid: Int) -> UInt64 { 0x4000 + UInt64(qid - 1) * 0x1000 }
  static func ioSQ(_ qid: Int) -> UInt64 { 0x8000 + UInt64(qid - 1) * 0x4000 }
  static let dataPage: UInt64 = 0x20000

  let config: CommandConfig
  let memory = FuzzGuestMemory.make()
  let doorbells: UnsafeMutableRawPointer
  let backends: [TestBackend]
  let controller: NVMeController
  let host: CommandHost
  private let clock = Clock()
  private var autoConsume = true
  private var interrupts = 0

  final class Clock { var now: UInt64 = 1_000 }

  init?(_ config: CommandConfig) {
    self.config = config
    var backends: [TestBackend] = []
    var namespaces: [Namespace] = []
    for index in 0..<config.namespaceCount {
      let size = CommandConfig.namespaceSizes[index]
      let inner: any BlockBackend
      if index == 0 && config.nullBackend {
        inner = NullBackend(size: size)
      } else {
        guard let memoryBackend = MemoryBackend(size: size) else { return nil }
        inner = memoryBackend
      }
      let backend = TestBackend(inner)
      let blockSize = index == 0 ? config.firstBlockSize : 512
      guard
        let ns = Namespace(
          id: UInt32(index + 1), backend: backend, blockSize: blockSize,
          readOnly: index == 1 && config.secondReadOnly, identifierSeed: "FUZZ")
      else { return nil }
      backends.append(backend)
      namespaces.append(ns)
    }
    self.backends = backends
    doorbells = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
    doorbells.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
    let settings = ControllerSettings(
      serialNumber: "FUZZ0001", modelNumber: "nvme-vfu fuzz", ioQueues: 4,
      maxQueueEntries: 256, mdtsExponent: config.mdtsExponent, interruptVectors: 5,
      sglSupported: config.sglSupported)
    let clock = self.clock
    controller = NVMeController(
      settings: settings, namespaces: namespaces, doorbells: doorbells, doorbellBytes: 4096,
      clock: { clock.now }, fineClock: { clock.now &* 1_000_000 })
    host = CommandHost(controller: controller, memory: memory, doorbells: doorbells)
    memory.allowsTranslation = !config.bounce
    controller.memory = memory
    controller.interruptHandler = { [unowned self] _ in self.interrupts &+= 1 }
  }

  func tearDown() {
    controller.quiesce()
    for backend in backends { backend.close() }
    doorbells.deallocate()
  }

  // MARK: bring-up

  /// What a driver does at probe: admin queue, enable, then I/O queue pairs
  /// through real Create commands.
  func bringUp(_ report: inout FuzzReport) {
    enable(adminEntries: config.adminEntries)
    turn(&report)
    guard config.ioQueuePairs > 0 else { return }
    for qid in 1...config.ioQueuePairs {
      let size = UInt32(config.ioEntries - 1) << 16 | UInt32(qid)
      host.submit(
        SubmissionQueueEntry(
          opcode: AdminOpcode.createIOCompletionQueue.rawValue, commandIdentifier: host.makeCID(),
          prp1: Self.ioCQ(qid), cdw10: size, cdw11: UInt32(qid) << 16 | 0b11),
        queue: 0)
      turn(&report)
      host.submit(
        SubmissionQueueEntry(
          opcode: AdminOpcode.createIOSubmissionQueue.rawValue, commandIdentifier: host.makeCID(),
          prp1: Self.ioSQ(qid), cdw10: size, cdw11: UInt32(qid) << 16 | 1),
        queue: 0)
      turn(&report)
    }
  }

  func enable(adminEntries: Int) {
    let size = UInt32(adminEntries - 1)
    host.write32(RegisterOffset.aqa, size << 16 | size)
    host.write64(RegisterOffset.asq, Self.adminSQ)
    host.write64(RegisterOffset.acq, Self.adminCQ)
    // IOSQES 6, IOCQES 4, MPS 4 KiB, NVM command set, enabled: what Linux writes.
    host.write32(RegisterOffset.cc, 6 << 16 | 4 << 20 | 1)
  }

  // MARK: records

  func step(_ cursor: inout ByteCursor, _ report: inout FuzzReport) {
    clock.now &+= 1
    switch cursor.u8() % 8 {
    case 0, 1, 2: submit(&cursor, &report)
    case 3:
      let window = memory.windows[Int(cursor.u8()) % memory.windows.count]
      let offset = UInt64(cursor.u32()) % UInt64(window.size)
      let bytes = cursor.take(Int(cursor.u8()))
      let room = window.size - Int(offset)
      memory.pokeIfMapped(window.base + offset, Array(bytes.prefix(room)))
    case 4:
      host.ringDoorbell(Int(cursor.u16() % 1024), cursor.u32())
    case 5:
      let raw = cursor.u16()
      var bytes = ByteWriter()
      bytes.u32(cursor.u32())
      if raw & 1 != 0 { bytes.u32(cursor.u32()) }
      host.writeRegister(UInt64(raw & 0x1FFC), bytes.bytes)
      report.count("registerWrites")
    case 6:
      for _ in 0...(cursor.u8() % 16) { turn(&report) }
    default:
      event(&cursor, &report)
    }
  }

  /// An SQE for one of the host's queues. Relocation flags aim pointers into
  /// the main window, so mutations of a valid seed stay in reach of memory:
  /// bit 0 PRP1/SGL address, bit 1 PRP2, bit 2 NSID 1, bit 3 a fresh CID,
  /// bit 4 metadata pointer, bit 5 hold the doorbell (batch with the next).
  private func submit(_ cursor: inout ByteCursor, _ report: inout FuzzReport) {
    let selector = Int(cursor.u8())
    let flags = cursor.u8()
    let raw = cursor.take(SubmissionQueueEntry.size)
    guard var sqe = SubmissionQueueEntry(bytes: raw + [UInt8](repeating: 0, count: 64 - raw.count))
    else { return }
    let ids = host.queueIDs
    guard !ids.isEmpty else { return }
    let qid = ids[selector % ids.count]
    let size = UInt64(memory.main.size)
    if flags & 1 != 0 { sqe.prp1 = memory.main.base + sqe.prp1 % size }
    if flags & 2 != 0 { sqe.prp2 = memory.main.base + sqe.prp2 % size }
    if flags & 4 != 0 { sqe.namespaceIdentifier = 1 }
    if flags & 8 != 0 { sqe.commandIdentifier = host.makeCID() }
    if flags & 16 != 0 { sqe.metadataPointer = memory.main.base + sqe.metadataPointer % size }
    host.submit(sqe, queue: qid, ring: flags & 32 == 0)
    report.count(qid == 0 ? "adminCommands" : "ioCommands")
  }

  /// 0 DMA map change, 1 toggle host pointers, 2 backend errno, 3 hold or
  /// release backend completions, 4 transport reset, 5 stop or resume
  /// popping completions, 6 clock jump, 7 take the neighbour window away or
  /// give it back, 8 arm a re-entry (`reenter`).
  private func event(_ cursor: inout ByteCursor, _ report: inout FuzzReport) {
    switch cursor.u8() % 9 {
    case 0:
      controller.memoryWillChange()
      controller.memoryDidChange()
    case 1:
      controller.memoryWillChange()
      memory.allowsTranslation.toggle()
      controller.memoryDidChange()
    case 2:
      let errnos: [Int32] = [0, EIO, ENOSPC, EROFS, EINVAL, ENOMEM]
      let code = errnos[Int(cursor.u8()) % errnos.count]
      for backend in backends { backend.injectedErrno = code }
    case 3:
      for backend in backends { backend.holding.toggle() }
    case 4:
      controller.deviceReset()
      host.deviceWasReset()
    case 5:
      autoConsume.toggle()
    case 6:
      clock.now &+= UInt64(cursor.u16()) &* 1000
    case 7:
      controller.memoryWillChange()
      memory.setPresent(1, !memory.windows[1].present)
      controller.memoryDidChange()
    default:
      reenter(cursor.u8())
    }
    report.count("events")
  }

  /// What the client can do to the controller while it waits inside a copy
  /// (memory without host pointers is copied by DMA messages, and the server
  /// serves the client meanwhile): 0 a DMA map change, 1 a device reset,
  /// 2 CC = 0, 3 a shutdown (CC.SHN), 4 the neighbour window unmapped
  /// (`argument % 5`). It happens inside the `argument / 5 + 1`th next
  /// `read` or `write` of guest memory: PRP lists, SGL segments, admin data,
  /// and with host pointers off also rings and I/O data.
  private func reenter(_ argument: UInt8) {
    memory.reentrySkip = Int(argument / 5)
    memory.reentry = { [unowned self] in
      switch argument % 5 {
      case 0:
        controller.memoryWillChange()
        controller.memoryDidChange()
      case 1:
        controller.deviceReset()
        host.deviceWasReset()
      case 2:
        host.write32(RegisterOffset.cc, 0)
      case 3:
        host.write32(RegisterOffset.cc, 6 << 16 | 4 << 20 | 1 << 14 | 1)
      default:
        controller.memoryWillChange()
        memory.setPresent(1, false)
        controller.memoryDidChange()
      }
    }
  }

  // MARK: turns and checks

  /// One reactor turn, then the host pops what completed. CSTS must agree
  /// with CC after every turn: RDY only while enabled.
  func turn(_ report: inout FuzzReport) {
    // An idle turn arms EventIdx, as the reactor does before it sleeps.
    if controller.poll() == 0 { _ = controller.armDoorbellEvents() }
    if autoConsume { host.consume() }
    let cc = host.readRegister(RegisterOffset.cc)
    let csts = host.readRegister(RegisterOffset.csts)
    report.require(cc & 1 != 0 || csts & 1 == 0, "CSTS.RDY set while CC.EN is clear")
  }

  /// Disable, then enable over a fresh admin queue and run Identify.
  func checkStillServes(_ report: inout FuzzReport) {
    report.count("completions", host.completions)
    report.count("errorCompletions", host.errorCompletions)
    report.count("interrupts", interrupts)
    for backend in backends {
      backend.holding = false
      backend.injectedErrno = 0
    }
    memory.setPresent(1, true)
    memory.reentry = nil
    host.write32(RegisterOffset.cc, 0)
    controller.poll()
    let csts = host.readRegister(RegisterOffset.csts)
    report.require(csts & 3 == 0, "after CC.EN=0: CSTS \(csts) (RDY or CFS still set)")
    report.require(controller.commandsInFlight == 0, "commands in flight after reset")
    report.require(backends.allSatisfy { $0.inFlight == 0 }, "backend requests after reset")

    enable(adminEntries: 8)
    controller.poll()
    let ready = host.readRegister(RegisterOffset.csts)
    report.require(ready & 3 == 1, "after re-enable: CSTS \(ready), not ready")
    memory.pokeIfMapped(Self.dataPage, [UInt8](repeating: 0xEE, count: 4096))
    let cid = host.makeCID()
    host.submit(
      SubmissionQueueEntry(
        opcode: AdminOpcode.identify.rawValue, commandIdentifier: cid, prp1: Self.dataPage,
        cdw10: 1),
      queue: 0)
    let before = host.completions
    for _ in 0..<4 {
      controller.poll()
      host.consume()
    }
    report.require(host.completions == before + 1, "Identify after re-enable did not complete")
    let vid = memory.peekIfMapped(Self.dataPage, 2) ?? []
    report.require(vid == [0x56, 0x4E], "Identify Controller data wrong: VID \(vid)")
  }
}
