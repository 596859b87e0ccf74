import POSIX

/// One client memory window the server may access (a VFIO_USER_DMA_MAP).
public struct DMARegion: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var address: UInt64
  public var size: UInt64
  public var readable: Bool
  public var writable: Bool
  /// Backed by a descriptor we mapped; otherwise reached by DMA_READ/DMA_WRITE messages.
  public var isMapped: Bool

  public init(address: UInt64, size: UInt64, readable: Bool, writable: Bool, isMapped: Bool) {
    self.address = address
    self.size = size
    self.readable = readable
    self.writable = writable
    self.isMapped = isMapped
  }

  /// One past the last byte; regions are validated so this cannot overflow.
  public var end: UInt64 { address &+ size }

  public func contains(_ address: UInt64, length: UInt64) -> Bool {
    guard address >= self.address, address < end else { return false }
    return length <= end - address
  }

  public func overlaps(_ other: DMARegion) -> Bool {
    address < other.end && other.address < end
  }

  public var description: String {
    let hex = String(address, radix: 16)
    return
      "[0x\(hex) +\(size) \(readable ? "r" : "-")\(writable ? "w" : "-")\(isMapped ? " mapped" : " messages")]"
  }
}

/// How the server reaches client memory that was shared without a descriptor.
public protocol RemoteDMA: AnyObject {
  func remoteRead(address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno)
  func remoteWrite(address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno)
}
