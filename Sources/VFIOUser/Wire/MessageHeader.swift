import POSIX

/// vfio-user command numbers (spec "Commands").
public enum Command: UInt16, Sendable, CaseIterable {
  case version = 1
  case dmaMap = 2
  case dmaUnmap = 3
  case deviceGetInfo = 4
  case deviceGetRegionInfo = 5
  case deviceGetRegionIOFDs = 6
  case deviceGetIRQInfo = 7
  case deviceSetIRQs = 8
  case regionRead = 9
  case regionWrite = 10
  case dmaRead = 11
  case dmaWrite = 12
  case deviceReset = 13
  case regionWriteMulti = 15
}

/// The 16-byte header in front of every message.
public struct MessageHeader: Equatable, Sendable, WireCodable {
  public static let size = 16

  public enum Kind: UInt32, Sendable {
    case command = 0
    case reply = 1
  }

  static let typeMask: UInt32 = 0xF
  static let noReplyBit: UInt32 = 1 << 4
  static let errorBit: UInt32 = 1 << 5

  public var id: UInt16
  /// Raw command number; `command` is nil for numbers the spec does not define.
  public var rawCommand: UInt16
  public var size: UInt32
  public var flags: UInt32
  public var error: UInt32

  public init(id: UInt16, rawCommand: UInt16, size: UInt32, flags: UInt32, error: UInt32 = 0) {
    self.id = id
    self.rawCommand = rawCommand
    self.size = size
    self.flags = flags
    self.error = error
  }

  public init(
    id: UInt16, command: Command, kind: Kind, payloadSize: Int, noReply: Bool = false,
    error: Errno? = nil
  ) {
    var flags = kind.rawValue
    if noReply { flags |= Self.noReplyBit }
    if error != nil { flags |= Self.errorBit }
    self.init(
      id: id, rawCommand: command.rawValue, size: UInt32(clamping: Self.size + payloadSize),
      flags: flags, error: UInt32(bitPattern: error?.code ?? 0))
  }

  public init(from reader: inout WireReader) throws(Errno) {
    id = try reader.read()
    rawCommand = try reader.read()
    size = try reader.read()
    flags = try reader.read()
    error = try reader.read()
  }

  public func encode(to writer: inout WireWriter) {
    writer.write(id)
    writer.write(rawCommand)
    writer.write(size)
    writer.write(flags)
    writer.write(error)
  }

  public var command: Command? { Command(rawValue: rawCommand) }
  /// nil for type values the spec does not define (2...15).
  public var kind: Kind? { Kind(rawValue: flags & Self.typeMask) }
  public var noReply: Bool { flags & Self.noReplyBit != 0 }
  public var isError: Bool { flags & Self.errorBit != 0 }
  public var payloadSize: Int { Int(size) - Self.size }
}
