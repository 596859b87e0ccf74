import NVMe

/// The guest CPU touching its own RAM. The `IfMapped` forms answer false or
/// nil outside the windows (a fuzzer aims there on purpose); the others trap,
/// since a test that pokes outside its own layout has a bug.
extension WindowedGuestMemory {
  @discardableResult
  public func pokeIfMapped(_ address: UInt64, _ bytes: [UInt8]) -> Bool {
    guard let target = hostView(address, length: bytes.count) else { return false }
    bytes.withUnsafeBytes { target.copyMemory(from: $0) }
    return true
  }

  public func peekIfMapped(_ address: UInt64, _ count: Int) -> [UInt8]? {
    hostView(address, length: count).map { Array($0) }
  }

  public func poke(_ address: UInt64, _ bytes: [UInt8]) {
    guard pokeIfMapped(address, bytes) else {
      fatalError("poke outside guest memory at \(address)")
    }
  }

  public func peek(_ address: UInt64, _ count: Int) -> [UInt8] {
    guard let bytes = peekIfMapped(address, count) else {
      fatalError("peek outside guest memory at \(address)")
    }
    return bytes
  }

  public func poke32(_ address: UInt64, _ value: UInt32) {
    poke(address, withUnsafeBytes(of: value.littleEndian) { Array($0) })
  }

  public func peek32(_ address: UInt64) -> UInt32 {
    peek(address, 4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * $1.offset) }
  }

  /// Stores little-endian PRP entries starting at `address`.
  public func pokeEntries(_ address: UInt64, _ entries: [UInt64]) {
    var bytes: [UInt8] = []
    for entry in entries { withUnsafeBytes(of: entry.littleEndian) { bytes += $0 } }
    poke(address, bytes)
  }

  /// Stores SGL descriptors back to back starting at `address`.
  public func pokeDescriptors(_ address: UInt64, _ descriptors: [SGLDescriptor]) {
    poke(address, descriptors.flatMap { $0.encode() })
  }
}
