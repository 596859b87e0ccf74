import Glibc

/// A UNIX errno value: what a failing syscall left, and what a vfio-user error reply carries.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
  public let code: Int32

  public init(_ code: Int32) { self.code = code }

  /// The calling thread's current errno.
  public static var current: Errno { Errno(errno) }

  public static let invalidArgument = Errno(EINVAL)
  public static let exists = Errno(EEXIST)
  public static let notFound = Errno(ENOENT)
  public static let noSpace = Errno(ENOSPC)
  public static let notImplemented = Errno(ENOSYS)
  public static let badAddress = Errno(EFAULT)
  public static let tooBig = Errno(E2BIG)
  public static let protocolError = Errno(EPROTO)
  public static let busy = Errno(EBUSY)
  public static let timedOut = Errno(ETIMEDOUT)
  public static let notSupported = Errno(EOPNOTSUPP)
  public static let badFileDescriptor = Errno(EBADF)
  public static let connectionReset = Errno(ECONNRESET)
  public static let permission = Errno(EPERM)
  public static let io = Errno(EIO)

  /// strerror's text alone, for messages that name their own subject.
  public var text: String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
  }

  public var description: String {
    guard strerror(code) != nil else { return "errno \(code)" }
    return "\(text) (errno \(code))"
  }
}

/// Runs a closure through a rethrowing standard-library API and restores the typed error.
@inlinable
public func typedThrows<T>(_ body: () throws -> T) throws(Errno) -> T {
  do {
    return try body()
  } catch let error as Errno {
    throw error
  } catch {
    throw .io
  }
}
