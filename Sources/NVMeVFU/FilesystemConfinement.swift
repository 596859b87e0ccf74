import Sandbox

/// The paths a serving server still needs, as Landlock rules: everything else on the
/// filesystem is out of reach once it serves (README, Security). Images given at
/// start are open already and need no rule.
enum FilesystemConfinement {
  static func policy(
    _ configuration: ServerConfiguration, imageDirectories: ImageDirectories,
    notifySocket: String?
  ) -> LandlockPolicy {
    var rules: [LandlockPolicy.Rule] = []
    // Both sockets are unlinked at the stop.
    if case .path(let path) = configuration.endpoint {
      rules.append(.init(path: directory(of: path), access: .removeFile))
    }
    if let control = configuration.controlPath {
      rules.append(.init(path: directory(of: control), access: .removeFile))
    }
    // The metrics file is a temporary file beside it, written, then renamed over it.
    if let metrics = configuration.metricsPath {
      rules.append(
        .init(
          path: directory(of: metrics), access: [.makeRegular, .writeFile, .truncate, .removeFile]))
    }
    // namespace_add opens and creates images there, sizes new ones and asks a block
    // device its size.
    for directory in imageDirectories.spellings {
      rules.append(
        .init(
          path: directory,
          access: [.readFile, .writeFile, .readDirectory, .makeRegular, .truncate, .ioctlDevice]))
    }
    // The server signals only its own threads. The one socket it connects to is
    // systemd's notify socket: abstract sockets stay reachable only if that is one.
    var scopes: LandlockPolicy.Scope = [.signal]
    if notifySocket?.hasPrefix("@") != true { scopes.insert(.abstractUnixSocket) }
    return LandlockPolicy(rules: rules, scopes: scopes)
  }

  /// The directory a path names its file in ("." for a bare name).
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }
}
