import VFIOUser

/// Writes vfio-stream inputs record by record (the format `StreamHarness`
/// reads), for the seed corpus and tests.
struct StreamInput {
  private(set) var writer = ByteWriter()

  init(config: UInt8 = 0, misbehaviourPattern: UInt8 = 0) {
    writer.u8(config)
    writer.u8(misbehaviourPattern)
  }

  var bytes: [UInt8] { writer.bytes }

  /// A message; `fds` are descriptor kind bytes (`FakeDescriptors.make`).
  mutating func message(
    _ command: UInt16, _ payload: [UInt8], flags: UInt8 = 0, rawSize: UInt32? = nil,
    fds: [UInt8] = []
  ) {
    writer.u8(0)
    writer.u8(UInt8(truncatingIfNeeded: command))
    writer.u8(flags & 0x3F | (rawSize != nil ? 0x40 : 0) | (fds.isEmpty ? 0 : 0x80))
    writer.u16(UInt16(payload.count))
    if let rawSize { writer.u32(rawSize) }
    if !fds.isEmpty {
      writer.u8(UInt8(fds.count))
      writer.append(fds)
    }
    writer.append(payload)
  }

  mutating func message(_ command: Command, _ payload: [UInt8], fds: [UInt8] = []) {
    message(command.rawValue, payload, fds: fds)
  }

  /// Writes into the client's memfd `index` (creation order), in pieces.
  mutating func poke(memfd index: UInt8, offset: UInt32, _ bytes: [UInt8]) {
    writer.pokeRecords(target: index, offset: offset, bytes)
  }

  mutating func doorbell(slot: UInt16, _ value: UInt32) {
    writer.doorbellRecord(slot: slot, value)
  }

  mutating func turns(_ count: UInt8) {
    writer.u8(5)
    writer.u8(count)
  }

  /// Writes the fd-less RAM (addressed modulo 64 KiB), in pieces.
  mutating func remote(address: UInt16, _ bytes: [UInt8]) {
    for start in stride(from: 0, to: bytes.count, by: 255) {
      let piece = bytes[start..<min(bytes.count, start + 255)]
      writer.u8(6)
      writer.u16(address &+ UInt16(start))
      writer.u8(UInt8(piece.count))
      writer.append(Array(piece))
    }
  }

  mutating func reconnect() { writer.u8(7) }

  // MARK: common messages

  /// What QEMU 10.1+ proposes, byte for byte.
  static let qemuJSON =
    Array(
      #"{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"write_multiple":true,"migration":{"pgsize":4096,"max_bitmap_size":134217728}}}"#
        .utf8) + [0]

  mutating func version(json: [UInt8] = StreamInput.qemuJSON) {
    var writer = WireWriter()
    writer.write(UInt16(0))
    writer.write(UInt16(0))
    writer.append(json)
    message(.version, writer.bytes)
  }

  mutating func regionWrite(_ region: UInt32, offset: UInt64, _ data: [UInt8]) {
    message(
      .regionWrite,
      RegionAccess(offset: offset, region: region, count: UInt32(data.count)).encoded + data)
  }

  mutating func regionRead(_ region: UInt32, offset: UInt64, count: UInt32) {
    message(.regionRead, RegionAccess(offset: offset, region: region, count: count).encoded)
  }

  mutating func bar0Write32(_ offset: UInt64, _ value: UInt32) {
    regionWrite(0, offset: offset, le(value))
  }

  mutating func bar0Write64(_ offset: UInt64, _ value: UInt64) {
    regionWrite(0, offset: offset, le(value))
  }
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
  withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
