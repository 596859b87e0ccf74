import Glibc

/// systemd's socket activation (sd_listen_fds(3)): when LISTEN_PID is this process,
/// LISTEN_FDS descriptors from 3 up are sockets systemd listens on for us.
public enum SocketActivation {
  /// SD_LISTEN_FDS_START.
  public static let firstDescriptor: Int32 = 3

  /// The socket systemd passed, or nil when this process was not socket-activated.
  /// Throws when it passed none or several (one server serves one socket). Removes the
  /// variables, as sd_listen_fds(1) does, so nothing this process starts takes them.
  public static func takeDescriptor(
    environment: [String: String], pid: pid_t = getpid()
  ) throws(ServerStartError) -> Int32? {
    guard let listenPID = environment["LISTEN_PID"], listenPID == String(pid) else {
      return nil
    }
    for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
    let count = environment["LISTEN_FDS"].flatMap { Int($0) } ?? 0
    guard count == 1 else {
      throw ServerStartError(
        "socket activation passed \(count) sockets (LISTEN_FDS); give the unit one ListenStream")
    }
    return firstDescriptor
  }
}
