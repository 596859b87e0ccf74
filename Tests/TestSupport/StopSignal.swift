import POSIX

/// An eventfd the test thread signals to stop the thread serving a server.
public struct StopSignal: Sendable {
  public let fd: FileDescriptor

  public init() throws(Errno) { fd = try EventFD.create() }

  public func signal() { EventFD.signal(fd) }
  public func close() { fd.close() }
}
