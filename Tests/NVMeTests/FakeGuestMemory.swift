@testable import NVMe

/// Guest memory made of a few separate windows, each backed by its own
/// allocation. Accesses must fall wholly inside one window, like the real
/// DMA space.
final class FakeGuestMemory: GuestMemory {
  struct Unmapped: Error {}

  private struct Window {
    let base: UInt64
    let storage: UnsafeMutableRawBufferPointer
    let writable: Bool
  }

  private var windows: [Window] = []
  private(set) var reads = 0
  /// False: behave like memory shared without descriptors (no host pointers;
  /// only copies through read/write work).
  var allowsTranslation = true

  /// Windows as (base, size); all zero-filled and writable unless listed in `readOnly`.
  init(_ layout: [(base: UInt64, size: Int)], readOnly: Set<UInt64> = []) {
    for (base, size) in layout {
      let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
      storage.initializeMemory(as: UInt8.self, repeating: 0)
      windows.append(Window(base: base, storage: storage, writable: !readOnly.contains(base)))
    }
  }

  deinit {
    for window in windows { window.storage.deallocate() }
  }

  func translate(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer? {
    guard allowsTranslation else { return nil }
    return view(address, length: length, write: write)
  }

  private func view(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer? {
    guard length >= 0 else { return nil }
    for window in windows where address >= window.base {
      let offset = address - window.base
      guard offset <= UInt64(window.storage.count),
        UInt64(length) <= UInt64(window.storage.count) - offset
      else { continue }
      if write && !window.writable { return nil }
      let start = Int(offset)
      return UnsafeMutableRawBufferPointer(rebasing: window.storage[start..<(start + length)])
    }
    return nil
  }

  func read(_ address: UInt64, into: UnsafeMutableRawBufferPointer) throws {
    reads += 1
    guard let source = view(address, length: into.count, write: false) else {
      throw Unmapped()
    }
    into.copyMemory(from: UnsafeRawBufferPointer(source))
  }

  func write(_ address: UInt64, from: UnsafeRawBufferPointer) throws {
    guard let target = view(address, length: from.count, write: true) else {
      throw Unmapped()
    }
    target.copyMemory(from: from)
  }

  // MARK: Test conveniences (trap on unmapped: a test bug, not a guest one)

  func poke(_ address: UInt64, _ bytes: [UInt8]) {
    guard let target = view(address, length: bytes.count, write: false) else {
      fatalError("poke outside fake memory at \(address)")
    }
    bytes.withUnsafeBytes { target.copyMemory(from: $0) }
  }

  func poke32(_ address: UInt64, _ value: UInt32) {
    poke(address, withUnsafeBytes(of: value.littleEndian) { Array($0) })
  }

  func peek32(_ address: UInt64) -> UInt32 {
    peek(address, 4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * $1.offset) }
  }

  func peek(_ address: UInt64, _ count: Int) -> [UInt8] {
    guard let source = view(address, length: count, write: false) else {
      fatalError("peek outside fake memory at \(address)")
    }
    return Array(source)
  }

  /// Stores little-endian PRP entries starting at `address`.
  func pokeEntries(_ address: UInt64, _ entries: [UInt64]) {
    var bytes: [UInt8] = []
    for entry in entries { withUnsafeBytes(of: entry.littleEndian) { bytes += $0 } }
    poke(address, bytes)
  }

  /// Stores SGL descriptors back to back starting at `address`.
  func pokeDescriptors(_ address: UInt64, _ descriptors: [SGLDescriptor]) {
    poke(address, descriptors.flatMap { $0.encode() })
  }
}
