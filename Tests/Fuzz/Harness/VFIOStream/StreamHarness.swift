import NVMeVFU
import POSIX
import VFIOUser

/// vfio-user message streams against the real NVMe device: the decoder
/// (framing, descriptors), the dispatcher and every command handler, the
/// PCI function and the NVMe controller behind BAR0, guest RAM in memfds
/// the server maps, doorbells in the shared page.
///
/// Input: two config bytes (`StreamConfig`), then records, each followed by
/// one reactor turn:
///
///     op % 8 = 0-2  message: command u8, flags u8 (bits 0-5 header flags,
///                   bit 6 a raw size u32 follows, bit 7 descriptors follow:
///                   count u8, one kind byte each), payload length u16,
///                   [size u32], [count, kinds], payload
///              3    write a memfd: index u8, offset u32, length u8, bytes
///              4    doorbell through the mmapped page: slot u16, value u32
///              5    extra turns: count u8
///              6    write the fd-less RAM: address u16, length u8, bytes
///              7    reconnect
///
/// Header sizes are computed unless the raw size is given, and ids count
/// up, so mutations keep messages framed unless they mean not to.
///
/// Afterwards: no descriptor leaked, server and device were freed, and a
/// new client was served (VERSION, DEVICE_GET_INFO, config and BAR0 reads).
enum StreamHarness {
  static let maxDescriptorsPerMessage = 40

  static func run(_ input: [UInt8]) -> FuzzReport {
    var report = FuzzReport()
    let before = OpenDescriptors.count()
    let freed = runRig(input, &report)
    report.require(freed, "server or device not freed (a reference cycle)")
    let after = OpenDescriptors.count()
    report.require(after == before, "descriptor leak: \(before) open before, \(after) after")
    return report
  }

  /// True when the server and the device were deallocated at the end.
  private static func runRig(_ input: [UInt8], _ report: inout FuzzReport) -> Bool {
    weak var server: VFIOUserServer?
    weak var device: NVMeDevice?
    do {
      var cursor = ByteCursor(input)
      let config = StreamConfig(&cursor)
      guard let rig = StreamRig(config) else {
        report.require(false, "harness setup failed")
        return true
      }
      server = rig.server
      device = rig.device
      rig.connect()
      report.count("connections")
      while !cursor.isAtEnd {
        guard step(rig, &cursor, &report) else { break }
        rig.turn()
      }
      rig.disconnect(&report)
      LivenessProbe.check(rig, &report)
      report.count("nvmeCommands", rig.nvmeCommands)
      rig.tearDown(&report)
    }
    return server == nil && device == nil
  }

  /// One record; false once the input may not go on (out of reconnects).
  private static func step(
    _ rig: StreamRig, _ cursor: inout ByteCursor, _ report: inout FuzzReport
  ) -> Bool {
    switch cursor.u8() % 8 {
    case 0, 1, 2:
      guard rig.reconnectIfDropped(&report) else { return false }
      message(rig, &cursor, &report)
    case 3:
      let index = Int(cursor.u8())
      let offset = cursor.u32()
      rig.descriptors.poke(index: index, offset: offset, cursor.take(Int(cursor.u8())))
    case 4:
      rig.ringDoorbell(slot: Int(cursor.u16()), value: cursor.u32())
    case 5:
      for _ in 0..<(cursor.u8() % 16) { rig.turn() }
    case 6:
      let address = UInt64(cursor.u16())
      rig.ram.write(address, cursor.take(Int(cursor.u8()))[...])
    default:
      guard rig.reconnectIfDropped(force: true, &report) else { return false }
    }
    return true
  }

  private static func message(
    _ rig: StreamRig, _ cursor: inout ByteCursor, _ report: inout FuzzReport
  ) {
    let command = UInt16(cursor.u8())
    let flags = cursor.u8()
    let length = Int(cursor.u16())
    let rawSize: UInt32? = flags & 0x40 != 0 ? cursor.u32() : nil
    var fds: [(fd: FileDescriptor, keepsOwnCopy: Bool)] = []
    if flags & 0x80 != 0 {
      let count = min(Int(cursor.u8() & 0x3F), maxDescriptorsPerMessage)
      for _ in 0..<count {
        if let made = rig.descriptors.make(kind: cursor.u8()) { fds.append(made) }
      }
    }
    let payload = cursor.take(length)
    let header = MessageHeader(
      id: rig.makeID(), rawCommand: command,
      size: rawSize ?? UInt32(MessageHeader.size + payload.count), flags: UInt32(flags & 0x3F))
    rig.send(header.encoded + payload, fds: fds)
    report.count("messages")
  }
}
