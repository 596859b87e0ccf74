import CShims
import Glibc
import POSIX

/// A Landlock policy: the files and directories the process may still open, create or
/// remove once it is confined, each with what it may do there. Everything the kernel's
/// Landlock handles and a rule does not allow fails with EACCES. Descriptors opened
/// before confinement (images, sockets, guest memory) keep working as they were.
public struct LandlockPolicy: Sendable {
  /// Filesystem rights (LANDLOCK_ACCESS_FS_*), by ABI version.
  public struct Access: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let execute = Access(rawValue: 1 << 0)
    public static let writeFile = Access(rawValue: 1 << 1)
    public static let readFile = Access(rawValue: 1 << 2)
    public static let readDirectory = Access(rawValue: 1 << 3)
    public static let removeDirectory = Access(rawValue: 1 << 4)
    public static let removeFile = Access(rawValue: 1 << 5)
    public static let makeCharacterDevice = Access(rawValue: 1 << 6)
    public static let makeDirectory = Access(rawValue: 1 << 7)
    public static let makeRegular = Access(rawValue: 1 << 8)
    public static let makeSocket = Access(rawValue: 1 << 9)
    public static let makeFIFO = Access(rawValue: 1 << 10)
    public static let makeBlockDevice = Access(rawValue: 1 << 11)
    public static let makeSymlink = Access(rawValue: 1 << 12)
    /// ABI 2: link or rename into another directory.
    public static let refer = Access(rawValue: 1 << 13)
    /// ABI 3: truncate(2), ftruncate and O_TRUNC on files opened once confined.
    public static let truncate = Access(rawValue: 1 << 14)
    /// ABI 5: ioctl on device files opened once confined.
    public static let ioctlDevice = Access(rawValue: 1 << 15)

    /// The rights a rule on a file, not a directory, may carry.
    public static let onFiles: Access = [.execute, .writeFile, .readFile, .truncate, .ioctlDevice]

    /// Every right the kernel's ABI `abi` handles: all of them are denied unless allowed.
    public static func handled(byABI abi: Int) -> Access {
      var rights = Access(rawValue: (1 << 13) - 1)
      if abi >= 2 { rights.insert(.refer) }
      if abi >= 3 { rights.insert(.truncate) }
      if abi >= 5 { rights.insert(.ioctlDevice) }
      return rights
    }
  }

  /// What a confined process may not reach outside its own domain (ABI 6).
  public struct Scope: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Connecting to abstract UNIX sockets that processes outside created.
    public static let abstractUnixSocket = Scope(rawValue: 1 << 0)
    /// Signalling processes outside.
    public static let signal = Scope(rawValue: 1 << 1)

    public static func handled(byABI abi: Int) -> Scope {
      abi >= 6 ? [.abstractUnixSocket, .signal] : []
    }
  }

  public struct Rule: Sendable, Hashable {
    public var path: String
    public var access: Access
    public init(path: String, access: Access) {
      self.path = path
      self.access = access
    }
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  public enum Outcome: Sendable, Equatable {
    /// Confined, with the kernel's Landlock ABI version.
    case enforced(abi: Int)
    /// The kernel offers no Landlock; why, in words for a log line.
    case unavailable(String)
  }

  public var rules: [Rule]
  public var scopes: Scope

  public init(rules: [Rule], scopes: Scope = []) {
    self.rules = rules
    self.scopes = scopes
  }

  /// The kernel's Landlock ABI version, or why there is none.
  public static func abi() -> Result<Int, Failure> {
    let abi = cshim_landlock_abi()
    if abi > 0 { return .success(Int(abi)) }
    let code = errno
    switch code {
    case ENOSYS:
      return .failure(Failure(description: "the kernel has no Landlock (Linux 5.13 or later)"))
    case EOPNOTSUPP:
      return .failure(
        Failure(description: "Landlock is disabled at boot (lsm= on the kernel command line)"))
    default:
      return .failure(Failure(description: "Landlock's version query failed: \(Errno(code).text)"))
    }
  }

  /// Confines every thread of the process for good. Rights the kernel's ABI lacks are
  /// left out of the rules (and so stay allowed everywhere); a path that cannot be
  /// opened is an error, not a rule dropped.
  public func restrictSelf() throws(Failure) -> Outcome {
    let abi: Int
    switch Self.abi() {
    case .success(let version): abi = version
    case .failure(let why): return .unavailable(why.description)
    }
    let handled = Access.handled(byABI: abi)
    let ruleset = cshim_landlock_create_ruleset(
      handled.rawValue, scopes.intersection(Scope.handled(byABI: abi)).rawValue)
    guard ruleset >= 0 else { throw Self.failure("creating the ruleset") }
    defer { close(ruleset) }
    for rule in rules {
      try add(rule, handled: handled, to: ruleset)
    }
    guard cshim_landlock_restrict_self(ruleset) == 0 else {
      throw Self.failure("restricting the process")
    }
    return .enforced(abi: abi)
  }

  private func add(_ rule: Rule, handled: Access, to ruleset: Int32) throws(Failure) {
    let fd = open(rule.path, Self.openPath | O_CLOEXEC)
    guard fd >= 0 else { throw Self.failure(rule.path) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw Self.failure(rule.path) }
    var allowed = rule.access.intersection(handled)
    if info.st_mode & S_IFMT != S_IFDIR { allowed.formIntersection(.onFiles) }
    guard !allowed.isEmpty else { return }
    guard cshim_landlock_allow_beneath(ruleset, fd, allowed.rawValue) == 0 else {
      throw Self.failure("rule for \(rule.path)")
    }
  }

  /// O_PATH (glibc declares it only with _GNU_SOURCE): a handle on the path itself,
  /// which needs no permission to read what it names.
  static let openPath: Int32 = 0o10_000_000

  private static func failure(_ what: String) -> Failure {
    Failure(description: "landlock: \(what): \(Errno.current.text)")
  }
}
