import Foundation
import Glibc
import POSIX
import VFIOUser

/// A program run as a child process (posix_spawn): stdin from /dev/null,
/// stdout and stderr into a file or a socket this process reads, no other
/// descriptor (the test harness leaves some open without close-on-exec),
/// default signal handling.
final class ChildProcess {
  enum Output {
    /// Appended to this file.
    case file(String)
    /// A socket pair (created close-on-exec): `readLine` and `readAll` read it.
    case pipe
    /// stdout and stderr apart, each truncated into its own file.
    case files(stdout: String, stderr: String)
  }

  /// How the child ended.
  enum Exit: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
      let signal = status & 0x7F
      self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    var description: String {
      switch self {
      case .exited(let code): "exit status \(code)"
      case .signaled(let signal): "killed by signal \(signal)"
      }
    }
  }

  struct SpawnError: Error, CustomStringConvertible {
    var description: String
  }

  let pid: pid_t
  let command: String
  private(set) var exit: Exit?
  private var outputFD: FileDescriptor?
  private var pending: [UInt8] = []

  /// `environment` is added to (and overrides) this process's.
  init(
    _ executable: String, _ arguments: [String], output: Output,
    environment: [String: String] = [:]
  ) throws {
    command = ([executable] + arguments).joined(separator: " ")
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var pipeFDs: (FileDescriptor, FileDescriptor)?
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    switch output {
    case .file(let path):
      posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
      posix_spawn_file_actions_adddup2(&actions, 1, 2)
    case .files(let stdout, let stderr):
      posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
      posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    case .pipe:
      let pair = try UnixSocket.pair()
      pipeFDs = pair
      posix_spawn_file_actions_adddup2(&actions, pair.1.rawValue, 1)
      posix_spawn_file_actions_adddup2(&actions, pair.1.rawValue, 2)
    }
    if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let envp: [UnsafeMutablePointer<CChar>?] =
      variables.map { strdup("\($0)=\($1)") } + [nil]
    defer { for pointer in envp { free(pointer) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    pipeFDs?.1.close()
    guard rc == 0 else {
      pipeFDs?.0.close()
      throw SpawnError(description: "\(executable): \(String(cString: strerror(rc)))")
    }
    self.pid = pid
    outputFD = pipeFDs?.0
  }

  deinit {
    if exit == nil {
      kill(pid, SIGKILL)
      _ = waitForExit()
    }
    outputFD?.close()
  }

  /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which its
  /// headers declare only for _GNU_SOURCE.
  private static let addCloseFrom:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
      guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
      return unsafeBitCast(
        symbol,
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)
          .self)
    }()

  /// Runs a program to completion; its status and everything it printed.
  static func run(_ executable: String, _ arguments: [String]) throws -> (
    exit: Exit, output: String
  ) {
    let child = try ChildProcess(executable, arguments, output: .pipe)
    let output = child.readAll()
    return (child.waitForExit() ?? .signaled(SIGKILL), output)
  }

  /// The first of `/usr/sbin/NAME`, `/sbin/NAME`, `/usr/bin/NAME`, `/bin/NAME`
  /// that is executable.
  static func systemTool(_ name: String) -> String? {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { "\($0)/\(name)" }
      .first { access($0, X_OK) == 0 }
  }

  var isRunning: Bool {
    guard exit == nil else { return false }
    var status: Int32 = 0
    let rc = waitpid(pid, &status, WNOHANG)
    if rc == pid { exit = Exit(waitStatus: status) }
    return exit == nil
  }

  func signal(_ signal: Int32) {
    guard exit == nil else { return }
    kill(pid, signal)
  }

  /// Waits for the child to end (`timeoutSeconds` nil: as long as it
  /// takes); nil when it is still running at the deadline.
  @discardableResult
  func waitForExit(timeoutSeconds: Double? = nil) -> Exit? {
    if let exit { return exit }
    guard let timeoutSeconds else {
      var status: Int32 = 0
      while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
      exit = Exit(waitStatus: status)
      return exit
    }
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while isRunning {
      guard Date() < deadline else { return nil }
      usleep(1000)
    }
    return exit
  }

  /// The next line the child printed (without the newline); nil at end of
  /// output or when none came within `timeoutSeconds`.
  func readLine(timeoutSeconds: Double) -> String? {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while true {
      if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: pending[..<newline], as: UTF8.self)
        pending.removeSubrange(...newline)
        return line
      }
      let remaining = deadline.timeIntervalSinceNow
      guard remaining > 0, fill(timeoutMilliseconds: Int32(remaining * 1000) + 1) else {
        return nil
      }
    }
  }

  /// Everything the child prints until it closes its output.
  func readAll() -> String {
    while fill(timeoutMilliseconds: -1) {}
    defer { pending.removeAll() }
    return String(decoding: pending, as: UTF8.self)
  }

  /// Reads what is available into `pending`; false at end of output or timeout.
  private func fill(timeoutMilliseconds: Int32) -> Bool {
    guard let outputFD else { return false }
    let timeout = PollTimeout.milliseconds(Int(timeoutMilliseconds))
    guard let ready = try? outputFD.poll(timeout: timeout), !ready.isEmpty else { return false }
    var chunk = [UInt8](repeating: 0, count: 4096)
    let count = read(outputFD.rawValue, &chunk, chunk.count)
    guard count > 0 else { return false }
    pending.append(contentsOf: chunk[..<count])
    return true
  }
}
