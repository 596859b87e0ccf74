import Glibc
import POSIX

/// `--user USER[:GROUP]`: who a server started as root becomes once it has opened its
/// images and bound its sockets. USER and GROUP are names or numbers; GROUP defaults
/// to USER's primary group.
public struct RunAsUser: Sendable, Equatable {
  public var name: String
  public var uid: UInt32
  public var gid: UInt32

  public init(parsing spec: String) throws(ServerStartError) {
    let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let userText = String(parts[0])
    guard !userText.isEmpty else { throw ServerStartError("--user \(spec): no user name") }
    var primaryGroup: UInt32?
    if let entry = getpwnam(userText) {
      uid = entry.pointee.pw_uid
      primaryGroup = entry.pointee.pw_gid
    } else if let number = UInt32(userText) {
      uid = number
      primaryGroup = getpwuid(number).map { $0.pointee.pw_gid }
    } else {
      throw ServerStartError("--user \(spec): no user \"\(userText)\" (see getent passwd)")
    }
    if parts.count > 1 {
      let groupText = String(parts[1])
      if let entry = getgrnam(groupText) {
        gid = entry.pointee.gr_gid
      } else if let number = UInt32(groupText) {
        gid = number
      } else {
        throw ServerStartError("--user \(spec): no group \"\(groupText)\" (see getent group)")
      }
    } else if let primaryGroup {
      gid = primaryGroup
    } else {
      throw ServerStartError("--user \(spec): uid \(uid) has no passwd entry; give :GROUP")
    }
    name = userText
  }

  /// Gives up root for good: supplementary groups, then the group, then the user (the
  /// order that leaves no way back; as root, setgid and setuid set the real, effective
  /// and saved ids alike, and glibc applies them to every thread), each checked, and
  /// root checked to be out of reach.
  public func become() throws(ServerStartError) {
    var groups = [gid_t(gid)]
    guard setgroups(1, &groups) == 0 else { throw failure("setgroups") }
    guard setgid(gid) == 0 else { throw failure("setgid") }
    guard setuid(uid) == 0 else { throw failure("setuid") }
    guard getuid() == uid, geteuid() == uid, getgid() == gid, getegid() == gid else {
      throw ServerStartError("--user \(name): the ids did not change")
    }
    if uid != 0 && setuid(0) == 0 {
      throw ServerStartError("--user \(name): root could be regained after dropping it")
    }
  }

  private func failure(_ call: String) -> ServerStartError {
    ServerStartError("--user \(name): \(call): \(Errno.current.text)")
  }
}
