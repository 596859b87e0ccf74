/// Limits a controller applies when resolving a command's data pointer.
public struct DataPointerLimits: Sendable, Hashable {
  /// Memory page size from CC.MPS, in bytes.
  public var pageSize: Int
  /// Largest transfer in bytes (MDTS); larger commands fail with Invalid Field.
  public var maxTransferLength: Int
  /// Whether SGLs are accepted for this queue (Identify Controller SGLS; over
  /// PCIe admin commands must use PRPs).
  public var allowSGL: Bool
  public var maxSGLDescriptors: Int

  public init(
    pageSize: Int, maxTransferLength: Int, allowSGL: Bool,
    maxSGLDescriptors: Int = SGL.defaultMaxDescriptors
  ) {
    self.pageSize = pageSize
    self.maxTransferLength = maxTransferLength
    self.allowSGL = allowSGL
    self.maxSGLDescriptors = maxSGLDescriptors
  }
}

extension SubmissionQueueEntry {
  /// Resolves DPTR into guest segments for a `length`-byte transfer,
  /// following PSDT. Reserved PSDT, or SGL where not allowed, is Invalid
  /// Field. Metadata (MPTR) is not resolved here.
  public func dataSegments(
    length: Int, direction: TransferDirection, limits: DataPointerLimits,
    memory: some GuestMemory
  ) throws(NVMeStatus) -> [DataSegment] {
    switch dataPointerType {
    case .prp:
      return try PRPList.segments(
        prp1: prp1, prp2: prp2, length: length, pageSize: limits.pageSize,
        maxTransferLength: limits.maxTransferLength, memory: memory)
    case .sglContiguousMetadata, .sglMetadataSegment:
      guard limits.allowSGL else { throw .invalidField }
      return try SGL.segments(
        descriptor: sglDescriptor, length: length, direction: direction,
        maxTransferLength: limits.maxTransferLength, memory: memory,
        maxDescriptors: limits.maxSGLDescriptors)
    case .reserved:
      throw .invalidField
    }
  }
}
