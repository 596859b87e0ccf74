/// Little-endian loads and stores on raw buffers for the wire structs.
///
/// Callers check the buffer size once up front; these helpers still refuse to
/// touch bytes outside the buffer (returning 0 / storing nothing) because raw
/// buffer bounds are only checked in debug builds.
enum WireBytes {
  static func load<T: FixedWidthInteger>(
    _: T.Type, _ buffer: UnsafeRawBufferPointer, _ offset: Int
  ) -> T {
    guard offset >= 0, offset <= buffer.count &- MemoryLayout<T>.size else { return 0 }
    return T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
  }

  static func store<T: FixedWidthInteger>(
    _ value: T, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int
  ) {
    guard offset >= 0, offset <= buffer.count &- MemoryLayout<T>.size else { return }
    buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
  }
}
