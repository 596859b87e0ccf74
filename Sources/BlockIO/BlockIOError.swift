import POSIX

/// Why a backend could not be opened or a spec not parsed. `description` is
/// one line meant for the operator: "disk.img: No such file or directory".
public struct BlockIOError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What the error is about: a path, a spec, a size.
  public var subject: String
  /// The errno behind it; EINVAL for malformed input.
  public var errno: Errno
  /// The reason, without the subject.
  public var reason: String

  public init(subject: String, errno: Errno, reason: String) {
    self.subject = subject
    self.errno = errno
    self.reason = reason
  }

  /// A failed system call, explained by strerror.
  public static func system(_ subject: String, errno: Errno) -> BlockIOError {
    BlockIOError(subject: subject, errno: errno, reason: errno.text)
  }

  /// Malformed input (EINVAL).
  public static func invalid(_ subject: String, _ reason: String) -> BlockIOError {
    BlockIOError(subject: subject, errno: .invalidArgument, reason: reason)
  }

  public var description: String { subject.isEmpty ? reason : "\(subject): \(reason)" }
}
