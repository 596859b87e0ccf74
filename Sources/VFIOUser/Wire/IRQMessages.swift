import POSIX

/// VFIO_USER_DEVICE_GET_IRQ_INFO request and reply (16 bytes).
public struct IRQInfo: Equatable, Sendable, WireCodable {
  public static let size = 16
  public static let flagEventFD: UInt32 = 1 << 0
  public static let flagMaskable: UInt32 = 1 << 1
  public static let flagAutomasked: UInt32 = 1 << 2
  public static let flagNoResize: UInt32 = 1 << 3

  public var argsz: UInt32
  public var flags: UInt32
  public var index: UInt32
  public var count: UInt32

  public init(
    argsz: UInt32 = UInt32(Self.size), flags: UInt32 = 0, index: UInt32, count: UInt32 = 0
  ) {
    self.argsz = argsz
    self.flags = flags
    self.index = index
    self.count = count
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    index = try reader.read()
    count = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(index)
    writer.write(count)
  }
}

/// VFIO_USER_DEVICE_SET_IRQS request (20 bytes + optional bool array).
public struct IRQSet: Equatable, Sendable, WireCodable {
  public static let size = 20

  public enum DataKind: UInt32, Sendable {
    case none = 1  // VFIO_IRQ_SET_DATA_NONE
    case bool = 2  // VFIO_IRQ_SET_DATA_BOOL
    case eventFD = 4  // VFIO_IRQ_SET_DATA_EVENTFD
  }

  public enum Action: UInt32, Sendable {
    case mask = 8  // VFIO_IRQ_SET_ACTION_MASK
    case unmask = 16  // VFIO_IRQ_SET_ACTION_UNMASK
    case trigger = 32  // VFIO_IRQ_SET_ACTION_TRIGGER
  }

  public var argsz: UInt32
  public var flags: UInt32
  public var index: UInt32
  public var start: UInt32
  public var count: UInt32
  /// The DATA_BOOL array, as sent (validated by the IRQ table, not here).
  public var data: [UInt8]

  public init(
    argsz: UInt32? = nil, data kind: DataKind, action: Action, index: UInt32, start: UInt32,
    count: UInt32, bools: [Bool] = []
  ) {
    let data = bools.map { $0 ? UInt8(1) : 0 }
    self.argsz = argsz ?? UInt32(Self.size + data.count)
    self.flags = kind.rawValue | action.rawValue
    self.index = index
    self.start = start
    self.count = count
    self.data = data
  }

  public init(from reader: inout WireReader) throws(Errno) {
    argsz = try reader.read()
    flags = try reader.read()
    index = try reader.read()
    start = try reader.read()
    count = try reader.read()
    data = Array(reader.rest())
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(argsz)
    writer.write(flags)
    writer.write(index)
    writer.write(start)
    writer.write(count)
    writer.append(data)
  }

  /// Exactly one data kind and one action, no other bits; nil otherwise.
  public var decodedFlags: (DataKind, Action)? {
    let dataBits = flags & 0x7
    let actionBits = flags & 0x38
    guard flags & ~UInt32(0x3F) == 0, let kind = DataKind(rawValue: dataBits),
      let action = Action(rawValue: actionBits)
    else { return nil }
    return (kind, action)
  }
}
