import NVMe
import Synchronization

/// Guest RAM for the command target: a few separate windows, like DMA maps.
/// A range must lie wholly inside one window, as in the real DMA space, so
/// the fuzzer can aim at window edges and at the gap between two windows.
final class FuzzGuestMemory: GuestMemory {
  struct Unmapped: Error {}

  struct Window {
    let base: UInt64
    let storage: UnsafeMutableRawBufferPointer
    let writable: Bool
    /// False while "unmapped" (the fuzzer took the window away).
    var present = true

    var size: Int { storage.count }
  }

  /// Main RAM at 0 (queues, data, lists); a neighbour right behind it that is
  /// a separate window; a read-only window far up.
  static let layout: [(base: UInt64, size: Int, writable: Bool)] = [
    (0, 512 << 10, true),
    (512 << 10, 64 << 10, true),
    (0x10_0000_0000, 64 << 10, false),
  ]

  private(set) var windows: [Window] = []
  /// False: behave like memory shared without descriptors (copies only, no
  /// host pointers), which sends the controller down its bounce paths.
  var allowsTranslation = true

  /// The windows' storage is reused from input to input and zeroed each
  /// time: fresh allocations cost more in page faults (ASan maps and unmaps
  /// big blocks) than the commands themselves. A pool, not one global set:
  /// the replay tests run inputs in parallel.
  private static let pool = Mutex<[Storage]>([])

  /// One input's window buffers; only ever owned by one input at a time.
  private struct Storage: @unchecked Sendable {
    var buffers: [UnsafeMutableRawBufferPointer]
  }

  init() {
    let storage =
      Self.pool.withLock { $0.popLast() }
      ?? Storage(
        buffers: Self.layout.map {
          UnsafeMutableRawBufferPointer.allocate(byteCount: $0.size, alignment: 4096)
        })
    for (buffer, (base, _, writable)) in zip(storage.buffers, Self.layout) {
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
      windows.append(Window(base: base, storage: buffer, writable: writable))
    }
  }

  deinit {
    let storage = Storage(buffers: windows.map(\.storage))
    Self.pool.withLock { $0.append(storage) }
  }

  var main: Window { windows[0] }

  func setPresent(_ index: Int, _ present: Bool) {
    guard windows.indices.contains(index) else { return }
    windows[index].present = present
  }

  func translate(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer? {
    guard allowsTranslation else { return nil }
    return view(address, length: length, write: write)
  }

  /// Runs once inside the next copy (`read`/`write`), as the server's
  /// handling of a client message does while a DMA message exchange waits
  /// for its reply: the controller is re-entered mid-access.
  var reentry: (() -> Void)?
  /// Copies to let pass before `reentry` runs.
  var reentrySkip = 0

  private func reenter() {
    guard let action = reentry else { return }
    guard reentrySkip == 0 else {
      reentrySkip -= 1
      return
    }
    reentry = nil
    action()
  }

  func read(_ address: UInt64, into: UnsafeMutableRawBufferPointer) throws {
    reenter()
    guard let source = view(address, length: into.count, write: false) else { throw Unmapped() }
    if into.count > 0 { into.copyMemory(from: UnsafeRawBufferPointer(source)) }
  }

  func write(_ address: UInt64, from: UnsafeRawBufferPointer) throws {
    reenter()
    guard let target = view(address, length: from.count, write: true) else { throw Unmapped() }
    if from.count > 0 { target.copyMemory(from: from) }
  }

  /// The host's own view (what its CPU can touch), ignoring permissions.
  func hostView(_ address: UInt64, length: Int) -> UnsafeMutableRawBufferPointer? {
    view(address, length: length, write: false)
  }

  private func view(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer? {
    guard length >= 0 else { return nil }
    for window in windows where window.present && address >= window.base {
      let offset = address - window.base
      guard offset <= UInt64(window.size), UInt64(length) <= UInt64(window.size) - offset else {
        continue
      }
      if write && !window.writable { return nil }
      let start = Int(offset)
      return UnsafeMutableRawBufferPointer(rebasing: window.storage[start..<(start + length)])
    }
    return nil
  }

  /// Host-side stores (the guest CPU writing its own RAM); false when unmapped.
  @discardableResult
  func poke(_ address: UInt64, _ bytes: [UInt8]) -> Bool {
    guard let target = hostView(address, length: bytes.count) else { return false }
    bytes.withUnsafeBytes { target.copyMemory(from: $0) }
    return true
  }

  func peek(_ address: UInt64, _ count: Int) -> [UInt8]? {
    hostView(address, length: count).map { Array($0) }
  }
}
