/// Bytes that differ per offset and per `seed`, so a block read back from the
/// wrong place or written by another command does not compare equal.
public func pattern(count: Int, seed: UInt8) -> [UInt8] {
  [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
    for index in 0..<count {
      buffer[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) &+ seed
    }
    initialized = count
  }
}
