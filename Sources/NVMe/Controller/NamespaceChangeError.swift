/// Why a namespace hot-add, removal or resize was refused.
public enum NamespaceChangeError: Error, Sendable, Equatable, CustomStringConvertible {
  case noSuchNamespace(UInt32)
  case namespaceIDInUse(UInt32)
  /// NSID 0, FFFFFFFFh, or above the controller's `maxNamespaces`.
  case namespaceIDOutOfRange(UInt32, max: Int)
  case noFreeNamespaceID(max: Int)
  case sizeNotBlockMultiple(bytes: UInt64, blockSize: Int)
  case zeroSize
  /// Shrinking would drop data the guest wrote at or past `from`.
  case wouldDiscardData(nsid: UInt32, from: UInt64)
  case backendRefused(nsid: UInt32, errno: Int32)
  case readOnly(UInt32)

  public var description: String {
    switch self {
    case .noSuchNamespace(let nsid):
      return "namespace \(nsid) is not attached; list the namespaces to pick one"
    case .namespaceIDInUse(let nsid):
      return "namespace ID \(nsid) is in use; choose another or omit it to get a free one"
    case .namespaceIDOutOfRange(let nsid, let max):
      return "namespace ID \(nsid) is out of range; use 1...\(max)"
    case .noFreeNamespaceID(let max):
      return "all \(max) namespace IDs are in use; detach one first"
    case .sizeNotBlockMultiple(let bytes, let blockSize):
      return "size \(bytes) is not a multiple of the \(blockSize)-byte block size"
    case .zeroSize:
      return "size must be greater than zero"
    case .wouldDiscardData(let nsid, let from):
      return
        "namespace \(nsid) holds data at or past byte \(from); shrinking would lose it (use force)"
    case .backendRefused(let nsid, let errno):
      return "the backend of namespace \(nsid) refused the change (errno \(errno))"
    case .readOnly(let nsid):
      return "namespace \(nsid) is read-only and cannot be resized"
    }
  }
}
