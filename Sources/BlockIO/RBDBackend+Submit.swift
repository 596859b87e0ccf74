import BackendContract
import CRBD
import Glibc

/// Handing prepared slots to librbd. Its aio calls only queue the work, so
/// issuing never blocks the reactor on the network.
extension RBDBackend {
  /// Issues everything prepared since the last call.
  public func submit() {
    guard !closed else { return }
    startBacklog()
    guard !pending.isEmpty else { return }
    statistics.submitCalls &+= 1
    while let index = pending.pop() { issue(index) }
  }

  /// Makes slot `index`'s next librbd call. A call librbd refuses at once
  /// (it then never completes) finishes the request through `reap`.
  func issue(_ index: Int32) {
    var completion: rbd_completion_t?
    var rc = rbd_aio_create_completion(RBDSlotTable.argument(index), nil, &completion)
    guard rc == 0, let completion else {
      finishEarly(index, rc < 0 && rc > -4096 ? -rc : ENOMEM)
      return
    }
    rc = call(table.slot(index), completion)
    if rc < 0 {
      rbd_aio_release(completion)
      finishEarly(index, rc > -4096 ? -rc : EIO)
      return
    }
    librbdInFlight &+= 1
  }

  private func call(_ slot: UnsafeMutablePointer<RBDSlot>, _ c: rbd_completion_t) -> Int32 {
    let offset = slot.pointee.offset
    // Lengths were bounded by the image size (<= Int64.max) when prepared.
    let length = Int(slot.pointee.length)
    switch slot.pointee.step {
    case .transfer:
      let isWrite = slot.pointee.operation == .write
      if let base = slot.pointee.buffer?.baseAddress?.assumingMemoryBound(to: CChar.self) {
        return isWrite
          ? rbd_aio_write(image, offset, length, base, c)
          : rbd_aio_read(image, offset, length, base, c)
      }
      let vectors = slot.pointee.iovecs
      let count = Int32(vectors.count)  // at most maxIOVecs here
      return isWrite
        ? rbd_aio_writev(image, vectors.baseAddress, count, offset, c)
        : rbd_aio_readv(image, vectors.baseAddress, count, offset, c)
    case .flush, .flushAfterWrite:
      return rbd_aio_flush(image, c)
    case .discard:
      return rbd_aio_discard(image, offset, slot.pointee.length, c)
    case .writeZeroes:
      return rbd_aio_write_zeroes(image, offset, length, c, 0, 0)
    case .copyRead, .copyWrite:
      let (at, chunk) = copyPiece(slot.pointee)
      guard let base = slot.pointee.buffer?.baseAddress?.assumingMemoryBound(to: CChar.self)
      else { return -EFAULT }
      return slot.pointee.step == .copyRead
        ? rbd_aio_read(image, slot.pointee.source &+ at, chunk, base, c)
        : rbd_aio_write(image, offset &+ at, chunk, base, c)
    }
  }

  /// Where in the range the copy's current chunk starts, and its length.
  func copyPiece(_ slot: RBDSlot) -> (at: UInt64, length: Int) {
    let remaining = slot.length &- slot.copied
    let chunk = min(remaining, UInt64(Self.copyChunk))
    let at = slot.backwards ? remaining &- chunk : slot.copied
    return (at, Int(chunk))
  }
}
