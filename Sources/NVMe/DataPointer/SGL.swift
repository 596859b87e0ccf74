/// Walks a command's Scatter Gather List (NVMe Base 2.0, section 4.1.2) from
/// the SQE's DPTR descriptor into guest data segments.
///
/// Rules enforced (strict where the spec leaves room, so a bad list fails
/// early instead of half-transferring):
/// - Only the Address subtype is accepted (Offset is for Fabrics):
///   otherwise SGL Descriptor Type Invalid.
/// - Keyed Data Block, Transport Data Block, vendor and reserved types:
///   SGL Descriptor Type Invalid.
/// - Bit Bucket only on controller-to-host (read-type) transfers; on a
///   host-to-controller transfer it is SGL Descriptor Type Invalid.
/// - A Segment/Last Segment descriptor must have a non-zero length that is a
///   multiple of 16 and must be the last descriptor of its segment; a Last
///   Segment may hold no Segment/Last Segment descriptor: otherwise Invalid
///   SGL Segment Descriptor.
/// - A Segment whose last descriptor is a data descriptor ends the list.
///   (Linux emits exactly that when a full page of data descriptors fits.)
/// - The data descriptors must cover the transfer length: less is Data SGL
///   Length Invalid. More is allowed (SGLS bit 18, "SGL length larger than
///   data"): the transfer stops at its length, the rest of the list is not
///   read. Linux relies on it: a user passthrough command (nvme io-passthru,
///   blktests nvme/046) gets an SGL for the whole user buffer, which may be
///   longer than the command's blocks. Zero-length data descriptors are skipped.
/// - At most `maxDescriptors` descriptors in all segments together; beyond
///   that Invalid Number of SGL Descriptors. This also bounds the number of
///   segments, so a segment chaining to itself cannot loop.
/// - An unreadable segment is Data Transfer Error.
public enum SGL {
  public static let defaultMaxDescriptors = 4096

  public static func segments(
    descriptor: SGLDescriptor, length: Int, direction: TransferDirection,
    maxTransferLength: Int, memory: some GuestMemory,
    maxDescriptors: Int = defaultMaxDescriptors
  ) throws(NVMeStatus) -> [DataSegment] {
    guard length >= 0, length <= maxTransferLength else { throw .invalidField }
    guard length > 0 else { return [] }
    var walk = Walk(remaining: length, direction: direction)

    switch descriptor.type {
    case .segment?, .lastSegment?:
      try walk.followSegments(from: descriptor, memory: memory, maxDescriptors: maxDescriptors)
    default:
      try walk.consume(descriptor)
    }
    guard walk.remaining == 0 else { throw .dataSGLLengthInvalid }
    return walk.builder.segments
  }

  /// Walk state: what is left to describe and what has been collected.
  private struct Walk {
    var remaining: Int
    let direction: TransferDirection
    var builder = DataSegmentBuilder()

    init(remaining: Int, direction: TransferDirection) {
      self.remaining = remaining
      self.direction = direction
    }

    /// Follows Segment/Last Segment descriptors until the list ends.
    mutating func followSegments(
      from first: SGLDescriptor, memory: some GuestMemory, maxDescriptors: Int
    ) throws(NVMeStatus) {
      var current = first
      var descriptorsLeft = maxDescriptors
      // Each pass consumes at least one descriptor, so the budget bounds it.
      while true {
        let isLast = current.type == .lastSegment
        guard current.subtype == SGLDescriptor.addressSubtype else {
          throw .sglDescriptorTypeInvalid
        }
        guard current.length > 0, current.length % UInt32(SGLDescriptor.size) == 0 else {
          throw .invalidSGLSegmentDescriptor
        }
        let count = Int(current.length) / SGLDescriptor.size
        guard count <= descriptorsLeft else { throw .invalidNumberOfSGLDescriptors }
        descriptorsLeft &-= count

        let bytes = try readSegment(at: current.address, count: count, memory: memory)
        var next: SGLDescriptor?
        for index in 0..<count {
          guard
            let entry = bytes.withUnsafeBytes({
              SGLDescriptor(bytes: $0, at: index &* SGLDescriptor.size)
            })
          else { throw .internalError }
          switch entry.type {
          case .segment?, .lastSegment?:
            guard !isLast, index == count &- 1 else { throw .invalidSGLSegmentDescriptor }
            next = entry
          default:
            try consume(entry)
          }
        }
        guard let next, remaining > 0 else { return }
        current = next
      }
    }

    /// Accounts one data-carrying descriptor (Data Block or Bit Bucket).
    mutating func consume(_ descriptor: SGLDescriptor) throws(NVMeStatus) {
      let isBitBucket: Bool
      switch descriptor.type {
      case .dataBlock?:
        isBitBucket = false
      case .bitBucket?:
        guard direction == .controllerToHost else { throw .sglDescriptorTypeInvalid }
        isBitBucket = true
      default:
        throw .sglDescriptorTypeInvalid
      }
      guard descriptor.subtype == SGLDescriptor.addressSubtype else {
        throw .sglDescriptorTypeInvalid
      }
      // Past the transfer length the descriptor describes nothing we move.
      let pieceLength = min(Int(descriptor.length), remaining)
      guard pieceLength > 0 else { return }
      try builder.append(
        address: isBitBucket ? 0 : descriptor.address, length: pieceLength,
        isBitBucket: isBitBucket)
      remaining &-= pieceLength
    }

    /// Copies one SGL segment out of guest memory (read once, then parsed).
    private func readSegment(
      at address: UInt64, count: Int, memory: some GuestMemory
    ) throws(NVMeStatus) -> [UInt8] {
      var bytes = [UInt8](repeating: 0, count: count &* SGLDescriptor.size)
      do {
        try bytes.withUnsafeMutableBytes { try memory.read(address, into: $0) }
      } catch {
        throw .dataTransferError
      }
      return bytes
    }
  }
}
