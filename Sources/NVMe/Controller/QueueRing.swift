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

  /// Translates the ring once (cached until `invalidate`). A translation is
  /// a table lookup that never re-enters the controller, so this mutation is
  /// short.
  mutating func resolve(_ memory: any GuestMemory) {
    guard !translated else { return }
    translated = true
    host = memory.translate(baseAddress, length: byteCount, write: writable)?.baseAddress
  }

  // The accessors below do not mutate, and callers use them on a copy of the
  // ring (`SubmissionQueue.fetch`, `CompletionQueue.store`): without a host
  // pointer the copy is a DMA message exchange, during which the server
  // serves the client, and a DMA_UNMAP then invalidates this very ring. An
  // access to the ring held across the copy would be an exclusivity
  // violation, a trap (found by the vfio-stream fuzz target).

  /// Copies entry `index` (64 bytes for an SQ) into a value once; nil when the
  /// memory behind it is gone.
  func readSubmission(_ index: Int, memory: any GuestMemory) -> SubmissionQueueEntry? {
    guard index >= 0, index < entries else { return nil }
    let offset = index &* entrySize
    if let base = host {
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
  func writeCompletion(
    _ entry: CompletionQueueEntry, at index: Int, memory: any GuestMemory
  ) -> Bool {
    guard index >= 0, index < entries else { return false }
    let offset = index &* entrySize
    if let base = host {
      let slot = base + offset
      entry.encodeLeading(into: UnsafeMutableRawBufferPointer(start: slot, count: entrySize))
      cshim_store_release_u32(
        (slot + 12).assumingMemoryBound(to: UInt32.self), entry.dword3.littleEndian)
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
