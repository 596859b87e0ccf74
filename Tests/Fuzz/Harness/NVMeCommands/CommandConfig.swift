/// The first three bytes of an nvme-commands input: the controller and the
/// state the harness sets up before the records run.
struct CommandConfig {
  /// Namespaces 1...3: 256 KiB, 128 KiB, 4 KiB.
  var namespaceCount: Int
  var firstBlockSize: Int
  var secondReadOnly: Bool
  var nullBackend: Bool
  /// Guest memory without host pointers: rings and data take the copy paths.
  var bounce: Bool
  /// Skip the harness's enable: the records program the registers themselves.
  var raw: Bool
  var sglSupported: Bool
  var adminEntries: Int
  var ioQueuePairs: Int
  var ioEntries: Int
  var mdtsExponent: UInt8

  init(_ cursor: inout ByteCursor) {
    let b0 = cursor.u8()
    let b1 = cursor.u8()
    let b2 = cursor.u8()
    namespaceCount = Int(b0 & 3) % 3 + 1
    firstBlockSize = b0 & 4 != 0 ? 4096 : 512
    secondReadOnly = b0 & 8 != 0
    nullBackend = b0 & 0x10 != 0
    bounce = b0 & 0x20 != 0
    raw = b0 & 0x40 != 0
    sglSupported = b0 & 0x80 == 0
    adminEntries = Int(b1 % 63) + 2
    ioQueuePairs = Int(b2 & 3)
    ioEntries = 2 << Int(b2 >> 2 & 7)
    mdtsExponent = [7, 1, 3, 5][Int(b2 >> 5 & 3)]
  }

  static let namespaceSizes: [UInt64] = [256 << 10, 128 << 10, 4 << 10]
}
