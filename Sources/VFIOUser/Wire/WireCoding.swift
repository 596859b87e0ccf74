import POSIX

/// Reads host-endian (little-endian on every supported host) fields from untrusted bytes.
/// Every read is bounds-checked and throws EINVAL instead of trapping.
public struct WireReader {
  public let bytes: [UInt8]
  public private(set) var offset: Int

  public init(_ bytes: [UInt8], offset: Int = 0) {
    self.bytes = bytes
    self.offset = min(max(offset, 0), bytes.count)
  }

  public var remaining: Int { bytes.count - offset }

  public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(Errno) -> T {
    let size = MemoryLayout<T>.size
    guard remaining >= size else { throw .invalidArgument }
    let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    offset += size
    return T(littleEndian: value)
  }

  /// Takes exactly `count` bytes.
  public mutating func take(_ count: Int) throws(Errno) -> ArraySlice<UInt8> {
    guard count >= 0, remaining >= count else { throw .invalidArgument }
    defer { offset += count }
    return bytes[offset..<offset + count]
  }

  public mutating func skip(_ count: Int) throws(Errno) {
    _ = try take(count)
  }

  public mutating func rest() -> ArraySlice<UInt8> {
    defer { offset = bytes.count }
    return bytes[offset...]
  }
}

/// Appends host-endian fields.
public struct WireWriter {
  public private(set) var bytes: [UInt8]

  public init(capacity: Int = 64) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  public mutating func write<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  public mutating func append<C: Collection>(_ data: C) where C.Element == UInt8 {
    bytes.append(contentsOf: data)
  }

  public mutating func pad(to size: Int) {
    if bytes.count < size { bytes.append(contentsOf: repeatElement(0, count: size - bytes.count)) }
  }
}

/// A wire structure that decodes from and encodes to a payload.
public protocol WireCodable {
  init(from reader: inout WireReader) throws(Errno)
  func encode(to writer: inout WireWriter)
}

extension WireCodable {
  public init(payload: [UInt8]) throws(Errno) {
    var reader = WireReader(payload)
    try self.init(from: &reader)
  }

  public var encoded: [UInt8] {
    var writer = WireWriter()
    encode(to: &writer)
    return writer.bytes
  }
}
