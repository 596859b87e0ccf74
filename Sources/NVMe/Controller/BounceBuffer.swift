/// A controller-owned data buffer, for a command whose data cannot move
/// straight between guest memory and the backend: Compare and Verify, and
/// guest memory without a host mapping. Noncopyable, so exactly one owner
/// frees it on every path a command takes: the command being built (a
/// validation failure drops it), the in-flight table while the backend works
/// on it, then the completion that copies it to the guest.
struct BounceBuffer: ~Copyable {
  let bytes: UnsafeMutableRawBufferPointer

  init(byteCount: Int) {
    bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 4096)
  }

  /// Takes back a buffer `release()` gave up.
  init(adopting bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

  /// Gives up ownership: the caller now frees `bytes` (the in-flight table,
  /// which keeps plain values; see `IOContext`).
  consuming func release() -> UnsafeMutableRawBufferPointer {
    let bytes = self.bytes
    discard self
    return bytes
  }

  deinit { bytes.deallocate() }
}
