#if canImport(Glibc)
  import Glibc
#endif

/// A UNIX errno value: what a failing syscall left, and what a vfio-user error reply carries.
public struct SystemError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
  public let code: Int32

  public init(_ code: Int32) { self.code = code }

  /// The calling thread's current errno.
  public static var current: SystemError { SystemError(errno) }

  public static let invalidArgument = SystemError(EINVAL)
  public static let exists = SystemError(EEXIST)
  public static let notFound = SystemError(ENOENT)
  public static let noSpace = SystemError(ENOSPC)
  public static let notImplemented = SystemError(ENOSYS)
  public static let badAddress = SystemError(EFAULT)
  public static let tooBig = SystemError(E2BIG)
  public static let protocolError = SystemError(EPROTO)
  public static let busy = SystemError(EBUSY)
  public static let timedOut = SystemError(ETIMEDOUT)
  public static let notSupported = SystemError(EOPNOTSUPP)
  public static let badFileDescriptor = SystemError(EBADF)
  public static let connectionReset = SystemError(ECONNRESET)
  public static let permission = SystemError(EPERM)
  public static let io = SystemError(EIO)

  public var description: String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return "\(String(cString: text)) (errno \(code))"
  }
}

/// Retries a syscall interrupted by a signal; turns -1 into a thrown `SystemError`.
@inline(__always)
func syscallRetrying<T: FixedWidthInteger>(_ body: () -> T) throws(SystemError) -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    if errno == EINTR { continue }
    throw SystemError.current
  }
}

/// Runs a closure through a rethrowing standard-library API and restores the typed error.
@inline(__always)
func typedThrows<T>(_ body: () throws -> T) throws(SystemError) -> T {
  do {
    return try body()
  } catch let error as SystemError {
    throw error
  } catch {
    throw .io
  }
}
