/// What `--backing` names: `mem:SIZE`, `null:SIZE`, `rbd:POOL/IMAGE,...`, or a file or block
/// device path (`file:PATH` spells out a path that starts with `mem:`, or with any
/// other `WORD:`: an unknown scheme is refused, not taken for a file name). A
/// file may end in `,engine=libaio` (the default) or `,engine=io_uring`.
public enum BackendSpec: Sendable, Hashable, CustomStringConvertible {
  /// Zero-filled process memory (`MemoryBackend`).
  case memory(size: UInt64)
  /// Reads return zeroes, writes vanish (`NullBackend`).
  case null(size: UInt64)
  /// An image file or block device (`FileBackend`), driven by `engine`.
  case file(path: String, engine: FileEngine = .libaio)
  /// A Ceph RBD image (`RBDBackend`).
  case rbd(RBDSpec)

  public init(parsing text: String) throws(BlockIOError) {
    let (text, engine) = try Self.splitEngine(text)
    self = try Self(parsingWithoutOptions: text)
    if let engine {
      guard case .file(let path, _) = self else {
        throw .invalid("backing '\(text),engine=\(engine.rawValue)'", "engine= is for files only")
      }
      self = .file(path: path, engine: engine)
    }
  }

  /// The text before a trailing `,engine=NAME`, and the engine it names.
  private static func splitEngine(_ text: String) throws(BlockIOError) -> (String, FileEngine?) {
    guard let comma = text.ranges(of: ",engine=").last else { return (text, nil) }
    let name = String(text[comma.upperBound...])
    guard let engine = FileEngine(rawValue: name) else {
      let known = FileEngine.allCases.map(\.rawValue).joined(separator: " or ")
      throw .invalid("backing '\(text)'", "unknown engine '\(name)' (expected \(known))")
    }
    return (String(text[..<comma.lowerBound]), engine)
  }

  private init(parsingWithoutOptions text: String) throws(BlockIOError) {
    if let size = text.dropPrefix("mem:") {
      self = .memory(size: try ByteSize.parse(size))
    } else if let size = text.dropPrefix("null:") {
      self = .null(size: try ByteSize.parse(size))
    } else if let body = text.dropPrefix("rbd:") {
      self = .rbd(try RBDSpec(parsing: body, text: text))
    } else if let path = text.dropPrefix("file:") {
      guard !path.isEmpty else { throw .invalid("backing '\(text)'", "empty path") }
      self = .file(path: path)
    } else if let scheme = Self.scheme(of: text) {
      throw .invalid(
        "backing '\(text)'",
        "unknown scheme '\(scheme):' (expected file:PATH, mem:SIZE, null:SIZE, rbd:POOL/IMAGE or a path; a file so named is file:\(text) or ./\(text))"
      )
    } else {
      guard !text.isEmpty else { throw .invalid("backing '\(text)'", "empty path") }
      self = .file(path: text)
    }
  }

  /// The `WORD` of a leading `WORD:` (RFC 3986's scheme: a letter, then letters,
  /// digits, `+`, `-` or `.`), or nil when `text` starts otherwise (`./x`, `/x`, `x.img`).
  static func scheme(of text: String) -> Substring? {
    guard let colon = text.firstIndex(of: ":") else { return nil }
    let word = text[..<colon]
    guard let first = word.first, first.isASCII, first.isLetter,
      word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
    else { return nil }
    return word
  }

  public var description: String {
    switch self {
    case .memory(let size): "mem:\(ByteSize.format(size))"
    case .null(let size): "null:\(ByteSize.format(size))"
    case .file(let path, .libaio): path
    case .file(let path, let engine): "\(path),engine=\(engine.rawValue)"
    case .rbd(let spec): spec.description
    }
  }

  /// The spelling that parses back to this spec: a path that reads as a scheme
  /// (`mem:1G`, `foo:bar`) gets `file:`.
  public var unambiguousSpelling: String {
    if case .file = self, (try? BackendSpec(parsing: description)) != self {
      return "file:\(description)"
    }
    return description
  }
}

extension String {
  /// The rest after `prefix`, or nil when the string does not start with it.
  fileprivate func dropPrefix(_ prefix: String) -> String? {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
  }
}
