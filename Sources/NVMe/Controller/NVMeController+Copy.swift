import BackendContract

extension NVMeController {
  /// Copy (19h): source ranges of one namespace to consecutive blocks from
  /// SDLBA (CDW10-11) of the same namespace. Each range is one backend
  /// `.copy`, so the store moves the bytes itself (copy_file_range, memmove)
  /// and nothing passes through the reactor's buffers. CDW12: NR (0's
  /// based) in bits 7:0, the descriptor format in 11:8, FUA in bit 30,
  /// which makes the destination durable. PRINFOR/PRINFOW and the
  /// directive fields mean nothing without protection information or
  /// directives and are ignored.
  func copy(_ sqe: SubmissionQueueEntry, queue sq: SubmissionQueue) throws(NVMeStatus) {
    guard let memory else { throw .dataTransferError }
    let (nsIndex, ns) = try lookup(sqe.namespaceIdentifier)
    let destination = UInt64(sqe.cdw11) << 32 | UInt64(sqe.cdw10)
    let count = Int(sqe.cdw12 & 0xFF) + 1
    let forceUnitAccess = sqe.cdw12 & (1 << 30) != 0
    guard let format = CopyDescriptorFormat(rawValue: UInt8((sqe.cdw12 >> 8) & 0xF)),
      format.isSupported
    else { throw .invalidField }
    guard count <= Namespace.maxCopyRanges else { throw .commandSizeLimitExceeded }
    guard !ns.isReadOnly else { throw .namespaceWriteProtected }

    let listLength = count * format.entrySize
    let segments = try sqe.dataSegments(
      length: listLength, direction: .hostToController, limits: ioLimits, memory: memory)
    let list = try DataTransfer.copyFromGuest(
      segments: segments, length: listLength, memory: memory)
    guard list.count == listLength else { throw .dataTransferError }

    let limit = UInt64(ns.copyLimitBlocks)
    var ranges: [CopySourceRange] = []
    ranges.reserveCapacity(count)
    var total: UInt64 = 0
    for index in 0..<count {
      guard let range = CopySourceRange.parse(list, index: index, format: format) else {
        throw .dataTransferError
      }
      guard UInt64(range.blocks) <= limit else { throw .commandSizeLimitExceeded }
      guard ns.contains(slba: range.startingLBA, count: UInt64(range.blocks)) else {
        throw .lbaOutOfRange
      }
      total &+= UInt64(range.blocks)  // at most 128 * 65536: no overflow
      ranges.append(range)
    }
    guard total <= limit else { throw .commandSizeLimitExceeded }
    guard ns.contains(slba: destination, count: total) else { throw .lbaOutOfRange }

    try start(sqe, queue: sq, kind: .copy, parts: ranges.count, lba: destination) { slot in
      var target = destination
      for range in ranges {
        let (source, length) = ns.byteRange(slba: range.startingLBA, count: UInt64(range.blocks))
        let (offset, _) = ns.byteRange(slba: target, count: 0)
        enqueue(
          .copy(source: source), namespaceIndex: nsIndex, offset: offset, length: length,
          slot: slot, forceUnitAccess: forceUnitAccess)
        target &+= UInt64(range.blocks)
      }
    }
  }
}
