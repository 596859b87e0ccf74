import Glibc
import POSIX

/// Why the server cannot listen at a socket path, as the part of one line after the
/// path: what is wrong with it and, where it helps, what would be right.
enum SocketPathError {
  static func reason(_ error: Errno, path: String) -> String {
    let directory = parent(of: path)
    switch error.code {
    case EADDRINUSE: return "already served by a live server"
    case ENOENT: return "cannot create the socket: directory \(directory) does not exist"
    case EACCES, EPERM: return "cannot create the socket in \(directory): \(error.text)"
    case ENOTDIR: return "cannot create the socket: \(directory) is not a directory"
    case EEXIST: return "exists and is not a socket (remove it or choose another path)"
    case ENAMETOOLONG:
      return "not a usable socket path (1-107 bytes, no NUL; use a shorter or relative path)"
    default: return "cannot listen: \(error)"
    }
  }

  static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }
}
