import NVMeHostDriver
import POSIX

/// Connects to the server at `path` like a guest (negotiate, enable,
/// identify); a socket that is missing or refuses says which socket.
public func attachHost(path: String, configuration: NVMeHost.Configuration) throws -> NVMeHost {
  do {
    return try NVMeHost.connect(path: path, configuration: configuration)
  } catch {
    if case .transport(let errno) = error {
      throw BenchError("cannot attach to the server at \(path): \(errno.text)")
    }
    throw error
  }
}
