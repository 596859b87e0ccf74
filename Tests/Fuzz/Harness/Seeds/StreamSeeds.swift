import NVMe
import VFIOUser

/// vfio-stream seeds: what QEMU does at attach and while a guest runs
/// (queries, DMA maps, BAR0 writes that enable the controller, doorbells in
/// the mapped page, I/O, interrupts, fd-less memory, reset), then hostile
/// variants, so mutation starts from deep states.
enum StreamSeeds {
  /// Guest RAM in the first memfd (1 MiB) and, for fd-less seeds, a 64 KiB
  /// window reached by DMA_READ/DMA_WRITE.
  static let guest: UInt64 = 0x4000_0000
  static let fdless: UInt64 = 0x8000_0000
  /// Offsets in guest RAM.
  static let adminCQ: UInt64 = 0x1000
  static let ioCQ: UInt64 = 0x2000
  static let ioSQ: UInt64 = 0x3000
  static let prpList: UInt64 = 0x8000
  static let sglSegment: UInt64 = 0x9000
  static let data: UInt64 = 0x10000

  static var all: [(name: String, bytes: [UInt8])] {
    [
      ("query", query()), ("enable-io", enableIO()), ("irqs", irqs()),
      ("fdless", fdlessSeed(config: 0, pattern: 0)),
      ("fdless-nested-disable", fdlessSeed(config: 6 << 4, pattern: 0x02)),
      ("fdless-nested-unmap", fdlessSeed(config: 7 << 4 | 4, pattern: 0x04)),
      ("fdless-bad-replies", fdlessSeed(config: 3 << 4, pattern: 0x55)),
      ("fdless-data", fdlessData(config: 0, pattern: 0)),
      ("fdless-data-nested-reset", fdlessData(config: 0x80 | 7 << 4, pattern: 0x04)),
      ("fdless-data-nested-shutdown", fdlessData(config: 0x80 | 6 << 4, pattern: 0x04)),
      ("malformed", malformed()), ("multi-reset", writeMultiReset()),
      ("config-space", configSpace()),
    ]
  }

  /// Everything QEMU asks before it touches the device.
  static func query() -> [UInt8] {
    var input = StreamInput()
    input.version()
    input.message(.deviceGetInfo, DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded)
    for index: UInt32 in 0..<9 {
      input.message(.deviceGetRegionInfo, RegionInfo(argsz: 32, index: index).encoded)
    }
    input.message(.deviceGetRegionInfo, RegionInfo(argsz: 80, index: 0).encoded)
    input.message(.deviceGetRegionIOFDs, RegionIOFDsInfo(index: 0).encoded)
    for index: UInt32 in 0..<5 {
      input.message(.deviceGetIRQInfo, IRQInfo(index: index).encoded)
    }
    input.regionRead(7, offset: 0, count: 64)
    input.regionRead(7, offset: 0x40, count: 0x40)
    input.regionRead(0, offset: 0, count: 8)
    input.regionRead(0, offset: 8, count: 4)
    input.regionRead(0, offset: 0x2000, count: 16)
    input.regionRead(0, offset: 0x3000, count: 8)
    input.regionRead(0, offset: 0x1000, count: 8)
    return input.bytes
  }

  /// DMA map, enable through BAR0, Identify, an I/O queue pair, writes and
  /// reads with PRP1, a PRP list and an SGL segment, unmap, reset.
  static func enableIO() -> [UInt8] {
    var nvme = NVMeStream(input: StreamInput())
    nvme.attach()
    nvme.admin(CommandSeeds.admin(.identify, prp1: guest + data, cdw10: 1))
    nvme.admin(CommandSeeds.admin(.setFeatures, cdw10: 7, cdw11: 0x0001_0001))
    nvme.createIOQueuePair()
    nvme.input.poke(memfd: 0, offset: UInt32(data), [UInt8](repeating: 0xA5, count: 1024))
    nvme.io(CommandSeeds.io(.write, blocks: 2, prp1: guest + data))
    nvme.input.poke(
      memfd: 0, offset: UInt32(prpList),
      CommandInput.entries([guest + data + 0x1000, guest + data + 0x2000]))
    nvme.io(CommandSeeds.io(.read, slba: 8, blocks: 24, prp1: guest + data, prp2: guest + prpList))
    nvme.input.poke(
      memfd: 0, offset: UInt32(sglSegment),
      CommandInput.descriptors([
        SGLDescriptor(address: guest + data, length: 512, type: .dataBlock),
        SGLDescriptor(address: guest + data + 0x2000, length: 512, type: .dataBlock),
      ]))
    nvme.io(
      CommandSeeds.sgl(
        .read, blocks: 2, SGLDescriptor(address: guest + sglSegment, length: 32, type: .lastSegment)
      )
    )
    nvme.input.doorbell(slot: 3, 3)
    nvme.input.doorbell(slot: 1, 5)
    nvme.input.message(.dmaUnmap, DMAUnmapRequest(address: guest, size: 1 << 20).encoded)
    nvme.io(CommandSeeds.io(.read, blocks: 1, prp1: guest + data))
    nvme.input.message(.deviceReset, [])
    nvme.input.regionRead(0, offset: 0x1C, count: 4)
    return nvme.input.bytes
  }

  /// MSI-X and INTx eventfds, masking, a completion that fires vector 0.
  static func irqs() -> [UInt8] {
    var nvme = NVMeStream(input: StreamInput())
    nvme.input.version()
    nvme.input.message(
      .deviceSetIRQs,
      IRQSet(data: .eventFD, action: .trigger, index: 2, start: 0, count: 3).encoded,
      fds: [4, 4, 4])
    nvme.input.message(
      .deviceSetIRQs,
      IRQSet(data: .eventFD, action: .trigger, index: 0, start: 0, count: 1).encoded,
      fds: [4])
    nvme.input.message(
      .deviceSetIRQs,
      IRQSet(data: .bool, action: .mask, index: 0, start: 0, count: 1, bools: [true]).encoded)
    nvme.input.message(
      .deviceSetIRQs, IRQSet(data: .none, action: .unmask, index: 0, start: 0, count: 1).encoded)
    nvme.input.message(
      .deviceSetIRQs, IRQSet(data: .eventFD, action: .unmask, index: 0, start: 0, count: 1).encoded,
      fds: [6])
    nvme.mapAndEnable()
    nvme.admin(CommandSeeds.admin(.identify, prp1: guest + data, cdw10: 1))
    nvme.input.message(
      .deviceSetIRQs, IRQSet(data: .none, action: .trigger, index: 2, start: 1, count: 2).encoded)
    nvme.input.message(
      .deviceSetIRQs, IRQSet(data: .none, action: .trigger, index: 2, start: 0, count: 0).encoded)
    nvme.admin(CommandSeeds.admin(.identify, prp1: guest + data, cdw10: 1))
    return nvme.input.bytes
  }

  /// Guest RAM shared without a descriptor: rings and data through
  /// DMA_READ/DMA_WRITE in 1 KiB pieces, answered (or misanswered, per
  /// `config`) by the fake client.
  static func fdlessSeed(config: UInt8, pattern: UInt8) -> [UInt8] {
    var input = StreamInput(config: config, misbehaviourPattern: pattern)
    input.version(
      json: Array(#"{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1024}}"#.utf8) + [0])
    input.message(
      .dmaMap, DMAMapRequest(flags: 3, offset: 0, address: fdless, size: 64 << 10).encoded)
    let identify = CommandSeeds.admin(.identify, prp1: fdless + data % 0x10000 + 0x4000, cdw10: 1)
    input.remote(address: 0, identify.encode())
    input.remote(
      address: 64, CommandSeeds.io(.read, nsid: 0, blocks: 1).encode())
    input.bar0Write32(0x24, 3 << 16 | 3)
    input.bar0Write64(0x28, fdless)
    input.bar0Write64(0x30, fdless + adminCQ)
    input.bar0Write32(0x14, 6 << 16 | 4 << 20 | 1)
    input.doorbell(slot: 0, 1)
    input.turns(2)
    input.doorbell(slot: 0, 2)
    input.turns(2)
    input.bar0Write32(0x1000, 3)
    input.turns(2)
    return input.bytes
  }

  /// Rings in the memfd, data buffers in a window shared without a
  /// descriptor: writes read the data by DMA_READ, reads deliver it by
  /// DMA_WRITE, in 512-byte pieces, from and into the controller's bounce
  /// buffers (the client answers or interferes per `config`).
  static func fdlessData(config: UInt8, pattern: UInt8) -> [UInt8] {
    var nvme = NVMeStream(input: StreamInput(config: config, misbehaviourPattern: pattern))
    nvme.input.version(
      json: Array(#"{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":512}}"#.utf8) + [0])
    nvme.mapAndEnable()
    nvme.input.message(
      .dmaMap, DMAMapRequest(flags: 3, offset: 0, address: fdless, size: 64 << 10).encoded)
    nvme.createIOQueuePair()
    nvme.input.remote(address: 0, [UInt8](repeating: 0x3C, count: 1024))
    nvme.io(CommandSeeds.io(.write, blocks: 2, prp1: fdless))
    nvme.io(CommandSeeds.io(.read, blocks: 2, prp1: fdless + 0x1000))
    nvme.io(CommandSeeds.io(.compare, blocks: 2, prp1: fdless))
    return nvme.input.bytes
  }

  /// Wrong order, wrong types, wrong descriptors, wrong sizes.
  static func malformed() -> [UInt8] {
    var input = StreamInput()
    input.message(.deviceGetInfo, DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded)
    input.version()
    input.version()
    input.message(99, [1, 2, 3])
    input.message(Command.regionRead.rawValue, [0, 0], flags: 1)
    input.message(.regionRead, RegionAccess(offset: 0, region: 7, count: 4).encoded, fds: [5])
    input.message(
      .deviceSetIRQs,
      IRQSet(data: .eventFD, action: .trigger, index: 2, start: 0, count: 2).encoded,
      fds: [UInt8](repeating: 4, count: 20))
    input.message(
      .dmaMap, DMAMapRequest(flags: 3, offset: 0, address: guest, size: 1 << 20).encoded, fds: [4])
    input.message(
      .dmaMap, DMAMapRequest(flags: 3, offset: 4096, address: guest, size: 4096).encoded, fds: [1])
    input.message(
      .dmaMap, DMAMapRequest(flags: 3, offset: 0, address: guest, size: 8192).encoded, fds: [1, 1])
    input.message(.dmaUnmap, DMAUnmapRequest(address: guest + 4096, size: 4096).encoded)
    input.message(.regionRead, RegionAccess(offset: 0x3FFC, region: 0, count: 8).encoded)
    input.message(.regionWrite, RegionAccess(offset: 0x14, region: 0, count: 2).encoded + [1, 0])
    input.message(.deviceGetRegionInfo, RegionInfo(argsz: 16, index: 3).encoded)
    input.message(.dmaRead, [UInt8](repeating: 0, count: 16))
    input.message(Command.version.rawValue, [], rawSize: 8)
    input.reconnect()
    input.version()
    input.message(Command.regionWrite.rawValue, [], rawSize: 0x0020_0000)
    return input.bytes
  }

  /// Writes in bulk (WRITE_MULTI), a reset mid-use, unmapping everything.
  static func writeMultiReset() -> [UInt8] {
    var nvme = NVMeStream(input: StreamInput())
    nvme.input.version()
    nvme.input.message(
      .dmaMap, DMAMapRequest(flags: 3, offset: 0, address: guest, size: 1 << 20).encoded, fds: [0])
    let entries = [
      RegionWriteOne(offset: 0x24, region: 0, data: le(UInt32(31 << 16 | 31))),
      RegionWriteOne(offset: 0x28, region: 0, data: le(guest)),
      RegionWriteOne(offset: 0x30, region: 0, data: le(guest + adminCQ)),
      RegionWriteOne(offset: 0x14, region: 0, data: le(UInt32(6 << 16 | 4 << 20 | 1))),
    ]
    var writer = WireWriter()
    writer.write(UInt64(entries.count))
    for entry in entries { entry.encode(to: &writer) }
    nvme.input.message(.regionWriteMulti, writer.bytes)
    nvme.admin(CommandSeeds.admin(.identify, prp1: guest + data, cdw10: 1))
    nvme.input.message(.deviceReset, [])
    nvme.input.message(
      .dmaUnmap, DMAUnmapRequest(flags: DMAUnmapRequest.all, address: 0, size: 0).encoded)
    nvme.input.doorbell(slot: 0, 2)
    nvme.input.turns(2)
    return nvme.input.bytes
  }

  /// PCI config space: BAR sizing, command register, PM, MSI-X enable and
  /// function mask, PCIe device control, then the MSI-X table.
  static func configSpace() -> [UInt8] {
    var input = StreamInput()
    input.version()
    input.regionWrite(7, offset: 0x10, le(UInt32.max))
    input.regionWrite(7, offset: 0x14, le(UInt32.max))
    input.regionRead(7, offset: 0x10, count: 8)
    input.regionWrite(7, offset: 0x10, le(UInt32(0xFE00_0000)))
    input.regionWrite(7, offset: 0x04, le(UInt16(0x0406)))
    input.regionWrite(7, offset: 0x44, le(UInt16(3)))
    input.regionWrite(7, offset: 0x44, le(UInt16(0)))
    input.regionWrite(7, offset: 0x52, le(UInt16(0xC000)))
    input.regionWrite(7, offset: 0x52, le(UInt16(0x8000)))
    input.regionWrite(7, offset: 0x68, le(UInt16(0x2810)))
    input.regionWrite(0, offset: 0x2000, le(UInt64(0xFEE0_0000)))
    input.regionWrite(0, offset: 0x2008, le(UInt32(0x4021)))
    input.regionWrite(0, offset: 0x200C, le(UInt32(0)))
    input.regionRead(0, offset: 0x2000, count: 16)
    input.regionRead(0, offset: 0x3000, count: 8)
    input.regionWrite(0, offset: 0x3000, le(UInt64.max))
    return input.bytes
  }
}

/// NVMe over the stream: guest RAM in memfd 0 at `StreamSeeds.guest`, the
/// admin queue at its start, I/O queue 1 at `ioSQ`, doorbells through the
/// mapped page.
struct NVMeStream {
  var input: StreamInput
  private var adminTail = 0
  private var ioTail = 0

  init(input: StreamInput) { self.input = input }

  mutating func attach() {
    input.version()
    input.message(.deviceGetInfo, DeviceInfo(flags: 0, numRegions: 0, numIRQs: 0).encoded)
    input.message(.deviceGetRegionInfo, RegionInfo(argsz: 80, index: 0).encoded)
    mapAndEnable()
  }

  mutating func mapAndEnable() {
    input.message(
      .dmaMap,
      DMAMapRequest(flags: 3, offset: 0, address: StreamSeeds.guest, size: 1 << 20).encoded,
      fds: [0])
    input.bar0Write32(0x24, 31 << 16 | 31)
    input.bar0Write64(0x28, StreamSeeds.guest)
    input.bar0Write64(0x30, StreamSeeds.guest + StreamSeeds.adminCQ)
    input.bar0Write32(0x14, 6 << 16 | 4 << 20 | 1)
    input.regionRead(0, offset: 0x1C, count: 4)
  }

  mutating func admin(_ entry: SubmissionQueueEntry) {
    var entry = entry
    entry.commandIdentifier = UInt16(adminTail + 1)
    input.poke(memfd: 0, offset: UInt32(adminTail * 64), entry.encode())
    adminTail += 1
    input.doorbell(slot: 0, UInt32(adminTail))
    input.turns(2)
  }

  /// I/O queue pair 1: 64 entries each, the CQ on vector 1 with interrupts.
  mutating func createIOQueuePair() {
    admin(
      CommandSeeds.admin(
        .createIOCompletionQueue, prp1: StreamSeeds.guest + StreamSeeds.ioCQ,
        cdw10: 63 << 16 | 1, cdw11: 1 << 16 | 3))
    admin(
      CommandSeeds.admin(
        .createIOSubmissionQueue, prp1: StreamSeeds.guest + StreamSeeds.ioSQ,
        cdw10: 63 << 16 | 1, cdw11: 1 << 16 | 1))
  }

  mutating func io(_ entry: SubmissionQueueEntry) {
    var entry = entry
    entry.commandIdentifier = UInt16(ioTail + 1)
    input.poke(memfd: 0, offset: UInt32(StreamSeeds.ioSQ) + UInt32(ioTail * 64), entry.encode())
    ioTail += 1
    input.doorbell(slot: 2, UInt32(ioTail))
    input.turns(2)
  }
}
