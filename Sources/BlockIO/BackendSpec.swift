/// What `--backing` names: `mem:SIZE`, `null:SIZE`, or a file or block
/// device path (`file:PATH` spells out a path that starts with `mem:`).
public enum BackendSpec: Sendable, Hashable, CustomStringConvertible {
  /// Zero-filled process memory (`MemoryBackend`).
  case memory(size: UInt64)
  /// Reads return zeroes, writes vanish (`NullBackend`).
  case null(size: UInt64)
  /// An image file or block device (`FileBackend`).
  case file(path: String)

  public init(parsing text: String) throws(BlockIOError) {
    if let size = text.dropPrefix("mem:") {
      self = .memory(size: try ByteSize.parse(size))
    } else if let size = text.dropPrefix("null:") {
      self = .null(size: try ByteSize.parse(size))
    } else {
      let path = text.dropPrefix("file:") ?? text
      guard !path.isEmpty else { throw .invalid("backing '\(text)'", "empty path") }
      self = .file(path: path)
    }
  }

  public var description: String {
    switch self {
    case .memory(let size): "mem:\(ByteSize.format(size))"
    case .null(let size): "null:\(ByteSize.format(size))"
    case .file(let path): path
    }
  }
}

extension String {
  /// The rest after `prefix`, or nil when the string does not start with it.
  fileprivate func dropPrefix(_ prefix: String) -> String? {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
  }
}
