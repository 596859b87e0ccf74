import Glibc
import POSIX

/// The directories namespace_add may open (and create) image files in (`--image-dir`):
/// the sandbox's Landlock rules allow nothing else once the server serves, and the
/// same rule is checked here first, so a path outside gets a reason, not EACCES, and
/// the rule holds where the kernel has no Landlock.
///
/// Resolved once at start: the serving process may not call getcwd or realpath
/// (seccomp), so a path given later is compared lexically with these.
public struct ImageDirectories: Sendable, Equatable {
  /// Each directory as given, made absolute, and as realpath(3) resolved it.
  public let spellings: [String]
  /// The server's working directory at start, for relative paths.
  let workingDirectory: String

  public static let none = ImageDirectories(spellings: [], workingDirectory: "/")

  init(spellings: [String], workingDirectory: String) {
    self.spellings = spellings
    self.workingDirectory = workingDirectory
  }

  /// Checks each directory exists and is one, and records both spellings of it.
  public init(resolving directories: [String]) throws(ServerStartError) {
    let cwd = Self.workingDirectory() ?? "/"
    var spellings: [String] = []
    for directory in directories {
      guard let real = realpath(directory, nil) else {
        throw ServerStartError("--image-dir \(directory): \(Errno.current.text)")
      }
      let resolved = String(cString: real)
      free(real)
      var info = stat()
      guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
        throw ServerStartError("--image-dir \(directory): not a directory")
      }
      for spelling in [Self.normalized(directory, in: cwd), resolved] {
        if let spelling, !spellings.contains(spelling) { spellings.append(spelling) }
      }
    }
    self.init(spellings: spellings, workingDirectory: cwd)
  }

  /// Why namespace_add may not open `path`, or nil when it lies beneath a directory.
  public func refusal(of path: String) -> String? {
    guard let absolute = Self.normalized(path, in: workingDirectory) else {
      return "\(path): a path with '..' is not taken; name the image plainly"
    }
    if spellings.contains(where: { absolute.hasPrefix($0 == "/" ? "/" : $0 + "/") }) {
      return nil
    }
    if spellings.isEmpty {
      return
        "\(path): namespace_add opens image files only under an --image-dir (image_dirs in --config), and none is given"
    }
    return "\(path) is not under an --image-dir (\(spellings.joined(separator: ", ")))"
  }

  private static func workingDirectory() -> String? {
    guard let raw = getcwd(nil, 0) else { return nil }
    defer { free(raw) }
    return String(cString: raw)
  }

  /// `path` made absolute against `directory`, with "." and empty components gone;
  /// nil when it has a ".." (which a lexical check cannot follow past a symlink).
  static func normalized(_ path: String, in directory: String) -> String? {
    let full = path.hasPrefix("/") ? path : directory + "/" + path
    var parts: [Substring] = []
    for part in full.split(separator: "/", omittingEmptySubsequences: true) {
      if part == ".." { return nil }
      if part != "." { parts.append(part) }
    }
    return "/" + parts.joined(separator: "/")
  }
}
