/// A controller-owned data buffer, for a command whose data cannot move
/// straight between guest memory and the backend: Compare and Verify, and
/// guest memory without a host mapping. Noncopyable, so exactly one owner
/// frees it on every path a command takes: the command being built (a
/// validation failure drops it), the in-flight table while the backend works
/// on it, then the completion that copies it to the guest.
struct BounceBuffer: ~Copyable {
  private var storage: OwnedBytes
  /// The guest's side, where the completion copies to (a read) or compares
  /// with (Compare); empty when nothing is copied at completion.
  var segments: [DataSegment] = []

  init(byteCount: Int) { storage = OwnedBytes(byteCount: byteCount) }

  /// Takes back what `release()` gave up.
  init(adopting bytes: UnsafeMutableRawBufferPointer, segments: [DataSegment]) {
    storage = OwnedBytes(adopting: bytes)
    self.segments = segments
  }

  var bytes: UnsafeMutableRawBufferPointer { storage.bytes }

  /// Gives up ownership: the caller now frees `bytes` (the in-flight table,
  /// which keeps plain values; see `IOContext`).
  consuming func release() -> (bytes: UnsafeMutableRawBufferPointer, segments: [DataSegment]) {
    (storage.release(), segments)
  }
}

/// Page-aligned bytes, freed once: when dropped, unless `release()` hands them on.
private struct OwnedBytes: ~Copyable {
  let bytes: UnsafeMutableRawBufferPointer

  init(byteCount: Int) {
    bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 4096)
  }

  init(adopting bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

  consuming func release() -> UnsafeMutableRawBufferPointer {
    let bytes = self.bytes
    discard self
    return bytes
  }

  deinit { bytes.deallocate() }
}
