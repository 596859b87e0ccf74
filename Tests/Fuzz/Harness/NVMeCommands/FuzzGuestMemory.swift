import NVMe
import Synchronization
import TestSupport

/// Guest RAM for the command target: main RAM at 0 (queues, data, lists); a
/// neighbour right behind it that is a separate window; a read-only window far
/// up. The windows' storage is reused from input to input (zeroed each time):
/// fresh allocations cost more in page faults (ASan maps and unmaps big blocks)
/// than the commands themselves. A pool, not one global set: the replay tests
/// run inputs in parallel.
enum FuzzGuestMemory {
  static let layout: [(base: UInt64, size: Int, writable: Bool)] = [
    (0, 512 << 10, true),
    (512 << 10, 64 << 10, true),
    (0x10_0000_0000, 64 << 10, false),
  ]

  /// One input's window buffers; only ever owned by one input at a time.
  private struct Storage: @unchecked Sendable {
    var buffers: [UnsafeMutableRawBufferPointer]
  }

  private static let pool = Mutex<[Storage]>([])

  static func make() -> WindowedGuestMemory {
    let storage =
      pool.withLock { $0.popLast() }
      ?? Storage(
        buffers: layout.map {
          UnsafeMutableRawBufferPointer.allocate(byteCount: $0.size, alignment: 4096)
        })
    return WindowedGuestMemory(windows: layout, buffers: storage.buffers) { buffers in
      let storage = Storage(buffers: buffers)
      pool.withLock { $0.append(storage) }
    }
  }
}

extension WindowedGuestMemory {
  /// Main RAM, where the fuzzer's addresses are folded into.
  var main: Window { windows[0] }
}
