import POSIX
import VFIOUser

/// Client memory windows served over DMA_READ/DMA_WRITE (the fd-less sharing mode).
public final class MessageMemory {
  private struct Window {
    var address: UInt64
    var bytes: UnsafeMutableRawBufferPointer
  }

  private var windows: [Window] = []
  /// Requests served, for tests that must see the message path was taken.
  public private(set) var reads = 0
  public private(set) var writes = 0
  /// The largest single DMA_READ or DMA_WRITE served, in bytes.
  public private(set) var largestTransfer = 0

  public init() {}

  deinit {
    for window in windows { window.bytes.deallocate() }
  }

  /// Adds a zeroed window and returns its memory (owned by this object).
  @discardableResult
  public func add(address: UInt64, size: Int) -> UnsafeMutableRawBufferPointer {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
    bytes.initializeMemory(as: UInt8.self, repeating: 0)
    windows.append(Window(address: address, bytes: bytes))
    return bytes
  }

  /// Drops the window that starts at `address` (after its DMA_UNMAP); false if none does.
  @discardableResult
  public func remove(address: UInt64) -> Bool {
    guard let index = windows.firstIndex(where: { $0.address == address }) else { return false }
    windows[index].bytes.deallocate()
    windows.remove(at: index)
    return true
  }

  func window(_ address: UInt64, _ count: Int) throws(Errno) -> UnsafeMutableRawBufferPointer {
    for window in windows where address >= window.address {
      let offset = address - window.address
      if offset <= UInt64(window.bytes.count), UInt64(count) <= UInt64(window.bytes.count) - offset
      {
        return UnsafeMutableRawBufferPointer(
          rebasing: window.bytes[Int(offset)..<Int(offset) + count])
      }
    }
    throw .badAddress
  }

  func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) {
    let source = try window(address, buffer.count)
    buffer.copyMemory(from: UnsafeRawBufferPointer(source))
    reads += 1
    largestTransfer = max(largestTransfer, buffer.count)
  }

  func write(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno) {
    let target = try window(address, buffer.count)
    target.copyMemory(from: buffer)
    writes += 1
    largestTransfer = max(largestTransfer, buffer.count)
  }
}
