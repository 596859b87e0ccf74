import CShims
import Glibc

/// Who is at the other end of an AF_UNIX socket (SO_PEERCRED): the credentials the
/// kernel recorded when the peer connected, which the peer cannot forge.
public struct PeerCredentials: Sendable, Equatable {
  public var pid: Int32
  public var uid: UInt32
  public var gid: UInt32

  public init(pid: Int32, uid: UInt32, gid: UInt32) {
    self.pid = pid
    self.uid = uid
    self.gid = gid
  }

  public init(of socket: FileDescriptor) throws(Errno) {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    _ = try syscall { cshim_peer_credentials(socket.rawValue, &pid, &uid, &gid) }
    self.init(pid: pid, uid: uid, gid: gid)
  }
}

/// Which peers may connect: by uid. `anyone` for in-process tests and libraries.
public struct PeerPolicy: Sendable, Equatable {
  /// nil: every uid.
  public var allowedUIDs: Set<UInt32>?

  public init(allowedUIDs: Set<UInt32>?) { self.allowedUIDs = allowedUIDs }

  public static let anyone = PeerPolicy(allowedUIDs: nil)

  /// Why `socket`'s peer may not connect, or nil when it may. A peer whose credentials
  /// cannot be read is refused.
  public func refusal(of socket: FileDescriptor) -> String? {
    guard let allowedUIDs else { return nil }
    let peer: PeerCredentials
    do {
      peer = try PeerCredentials(of: socket)
    } catch {
      return "its credentials cannot be read (SO_PEERCRED: \(error))"
    }
    guard !allowedUIDs.contains(peer.uid) else { return nil }
    let allowed = allowedUIDs.sorted().map(String.init).joined(separator: ",")
    return "uid \(peer.uid) (pid \(peer.pid)) is not allowed to connect (allowed uids: \(allowed))"
  }
}
