import Glibc
import POSIX
import TestSupport
import VFIOUser

/// The test harness's serving loop over the server's public entry points.
extension VFIOUserServer {
  /// Blocks serving clients until `stop` is signalled: the reactor's order of
  /// events (accept, else service the connection) without a device to poll.
  func run(until stop: StopSignal) throws(Errno) {
    var fds = PollSet(capacity: 2)
    while true {
      fds.removeAll()
      let stopIndex = fds.append(stop.fd)
      var peerIndex: Int?
      if let connection {
        peerIndex = fds.append(connection.socket)
      } else if let listener {
        peerIndex = fds.append(listener)
      }
      try fds.wait(timeout: .forever)
      if !fds.ready(at: stopIndex).isEmpty { return }
      guard let peerIndex, !fds.ready(at: peerIndex).isEmpty else { continue }
      if connection != nil { serviceConnection() } else { acceptPending() }
    }
  }
}
