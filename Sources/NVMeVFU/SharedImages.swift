import BlockIO
import Glibc

/// Two namespaces on one image would corrupt each other; the image lock (flock) would
/// refuse the second anyway, but as if another process held it. This says what is wrong.
enum SharedImages {
  enum Identity: Hashable {
    case file(device: UInt64, inode: UInt64)
    /// Not there yet (created with --size): the path as given.
    case missing(String)
  }

  /// Throws for the first image that two namespaces name, by any path to it.
  static func refuse(_ namespaces: [NamespaceConfiguration]) throws(ServerStartError) {
    var seen: [Identity: (position: Int, path: String)] = [:]
    for (index, ns) in namespaces.enumerated() {
      guard case .file(let path, _) = ns.backing else { continue }
      let key = identity(path)
      if let earlier = seen[key] {
        let same = earlier.path == path ? "" : " as \(earlier.path)"
        throw ServerStartError(
          "\(path): namespaces \(earlier.position) and \(index + 1) name the same image\(same); give each namespace its own"
        )
      }
      seen[key] = (index + 1, path)
    }
  }

  static func identity(_ path: String) -> Identity {
    var status = stat()
    guard stat(path, &status) == 0 else { return .missing(path) }
    return .file(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
  }
}
