import Synchronization

/// The client's RAM for windows shared without a descriptor, which the
/// server reaches by DMA_READ/DMA_WRITE messages. 64 KiB, addressed modulo
/// its size, so any guest address the input picks has contents.
final class RemoteRAM: Sendable {
  static let size = 64 << 10
  private let bytes = Mutex([UInt8](repeating: 0, count: RemoteRAM.size))

  func read(_ address: UInt64, count: Int) -> [UInt8] {
    bytes.withLock { ram in
      var out = [UInt8](repeating: 0, count: count)
      var position = Int(address % UInt64(Self.size))
      for index in 0..<count {
        out[index] = ram[position]
        position = position + 1 == Self.size ? 0 : position + 1
      }
      return out
    }
  }

  func write(_ address: UInt64, _ data: ArraySlice<UInt8>) {
    bytes.withLock { ram in
      var position = Int(address % UInt64(Self.size))
      for byte in data {
        ram[position] = byte
        position = position + 1 == Self.size ? 0 : position + 1
      }
    }
  }
}
