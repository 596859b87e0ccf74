import NVMe

/// Writes nvme-commands inputs record by record (the format
/// `CommandHarness` reads), for the seed corpus and tests.
struct CommandInput {
  private(set) var writer = ByteWriter()

  init(_ config: (UInt8, UInt8, UInt8) = (0, 31, 0x1D)) {
    writer.u8(config.0)
    writer.u8(config.1)
    writer.u8(config.2)
  }

  var bytes: [UInt8] { writer.bytes }

  /// An SQE for the host's queue at `selector`; relocation `flags` as in
  /// `CommandRig.submit` (default: a fresh CID).
  mutating func sqe(_ entry: SubmissionQueueEntry, queue selector: UInt8 = 0, flags: UInt8 = 8) {
    writer.u8(0)
    writer.u8(selector)
    writer.u8(flags)
    writer.append(entry.encode())
  }

  mutating func poke(window: UInt8 = 0, offset: UInt32, _ bytes: [UInt8]) {
    writer.pokeRecords(target: window, offset: offset, bytes)
  }

  mutating func doorbell(slot: UInt16, _ value: UInt32) {
    writer.doorbellRecord(slot: slot, value)
  }

  mutating func register(_ offset: UInt16, _ value: UInt32) {
    writer.u8(5)
    writer.u16(offset & ~3)
    writer.u32(value)
  }

  mutating func register64(_ offset: UInt16, _ value: UInt64) {
    writer.u8(5)
    writer.u16(offset & ~3 | 1)
    writer.u64(value)
  }

  mutating func turns(_ count: UInt8) {
    writer.u8(6)
    writer.u8(count)
  }

  mutating func event(_ kind: UInt8, _ argument: [UInt8] = []) {
    writer.u8(7)
    writer.u8(kind)
    writer.append(argument)
  }

  /// Little-endian PRP entries or any 64-bit list.
  static func entries(_ values: [UInt64]) -> [UInt8] { values.flatMap { le($0) } }

  static func descriptors(_ list: [SGLDescriptor]) -> [UInt8] { list.flatMap { $0.encode() } }
}
