import Glibc
import POSIX

/// systemd's readiness protocol (sd_notify(3)) without libsystemd: newline-separated
/// VAR=VALUE assignments in one datagram to the socket named by NOTIFY_SOCKET. With no
/// NOTIFY_SOCKET (not started by systemd, or not Type=notify) every call does nothing.
public struct SystemdNotify: Sendable {
  public let socketPath: String?

  public init(environment: [String: String]) {
    let path = environment["NOTIFY_SOCKET"] ?? ""
    socketPath = path.isEmpty ? nil : path
  }

  /// The server serves: systemd starts units that wait for it.
  public func ready(status: String) throws(Errno) {
    try send(["READY=1", "STATUS=\(status)", "MAINPID=\(getpid())"])
  }

  /// The server got its stop signal and is finishing in-flight I/O.
  public func stopping() throws(Errno) {
    try send(["STOPPING=1", "STATUS=stopping: finishing in-flight I/O and flushing"])
  }

  func send(_ assignments: [String]) throws(Errno) {
    guard let socketPath else { return }
    // Status text from the server, never a newline that would start a new variable.
    let lines = assignments.map { $0.replacingNewlines() }
    try UnixSocket.sendDatagram(Array(lines.joined(separator: "\n").utf8), to: socketPath)
  }
}

extension String {
  fileprivate func replacingNewlines() -> String {
    String(map { $0 == "\n" ? " " : $0 })
  }
}
