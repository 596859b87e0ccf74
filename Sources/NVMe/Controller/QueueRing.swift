import CShims

/// A queue's ring of fixed-size entries in guest memory.
///
/// The whole ring is translated once and the host pointer cached (queues are
/// physically contiguous: CAP.CQR = 1). When the ring is not in fd-mapped
/// memory (a client sharing RAM without descriptors) every entry goes
/// through `GuestMemory.read/write` instead. `invalidate()` drops the cache
/// when DMA mappings change; the next access translates again.
struct QueueRing {
  let baseAddress: UInt64
  let entrySize: Int
  let entries: Int
  let writable: Bool
  private var host: UnsafeMutableRawPointer?
  private var translated = false

  init(baseAddress: UInt64, entrySize: Int, entries: Int, writable: Bool) {
    self.baseAddress = baseAddress
    self.entrySize = entrySize
    self.entries = entries
    self.writable = writable
  }

  var byteCount: Int { entrySize &* entries }

  /// The ring's guest range does not wrap the address space.
  var isAddressable: Bool {
    !baseAddress.addingReportingOverflow(UInt64(byteCount)).overflow
  }

  mutating func invalidate() {
    host = nil
    translated = false
  }

  private mutating func hostBase(_ memory: any GuestMemory) -> UnsafeMutableRawPointer? {
    if !translated {
      translated = true
      host = memory.translate(baseAddress, length: byteCount, write: writable)?.baseAddress
    }
    return host
  }

  /// Copies entry `index` (64 bytes for an SQ) into a value once; nil when the
  /// memory behind it is gone.
  mutating func readSubmission(_ index: Int, memory: any GuestMemory) -> SubmissionQueueEntry? {
    guard index >= 0, index < entries else { return nil }
    let offset = index &* entrySize
    if let base = hostBase(memory) {
      return SubmissionQueueEntry(
        bytes: UnsafeRawBufferPointer(start: base + offset, count: SubmissionQueueEntry.size))
    }
    return withUnsafeTemporaryAllocation(
      byteCount: SubmissionQueueEntry.size, alignment: 8
    ) { buffer -> SubmissionQueueEntry? in
      do {
        try memory.read(baseAddress &+ UInt64(offset), into: buffer)
      } catch {
        return nil
      }
      return SubmissionQueueEntry(bytes: UnsafeRawBufferPointer(buffer))
    }
  }

  /// Writes a completion at `index`, the phase-tag dword last (release) so a
  /// polling guest never sees a new phase with old contents. False when the
  /// memory behind it is gone.
  mutating func writeCompletion(
    _ entry: CompletionQueueEntry, at index: Int, memory: any GuestMemory
  ) -> Bool {
    guard index >= 0, index < entries else { return false }
    let offset = index &* entrySize
    if let base = hostBase(memory) {
      let slot = base + offset
      entry.encodeLeading(into: UnsafeMutableRawBufferPointer(start: slot, count: entrySize))
      cshim_store_release_u32((slot + 12).assumingMemoryBound(to: UInt32.self), entry.dword3.littleEndian)
      return true
    }
    let bytes = entry.encode()
    do {
      try bytes.withUnsafeBytes { try memory.write(baseAddress &+ UInt64(offset), from: $0) }
      return true
    } catch {
      return false
    }
  }
}
