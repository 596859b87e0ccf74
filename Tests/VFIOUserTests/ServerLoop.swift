import Glibc
import POSIX
import VFIOUser

/// The test harness's serving loop over the server's public entry points.
extension VFIOUserServer {
  /// Blocks serving clients until `stop` is signalled: the reactor's order of
  /// events (accept, else service the connection) without a device to poll.
  func run(until stop: StopSignal) throws(Errno) {
    while true {
      var fds = [pollfd(fd: stop.fd.rawValue, events: Int16(POLLIN), revents: 0)]
      if let connection {
        fds.append(pollfd(fd: connection.socket.rawValue, events: Int16(POLLIN), revents: 0))
      } else if let listener {
        fds.append(pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0))
      }
      _ = try POSIX.syscall { poll(&fds, nfds_t(fds.count), -1) }
      if fds[0].revents != 0 { return }
      guard fds.count > 1, fds[1].revents != 0 else { continue }
      if connection != nil { serviceConnection() } else { acceptPending() }
    }
  }
}
