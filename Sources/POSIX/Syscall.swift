// POSIX: the one place system calls are wrapped (the role NIOPosix's System.swift
// plays). Everything above it sees owned descriptors, `Errno` and typed results,
// never a bare -1 and errno.

import Glibc

/// Calls `body` again while it fails with EINTR (a signal arrived); returns its last
/// result, with errno still set when that is -1.
@inlinable
public func retryingEINTR<T: FixedWidthInteger>(_ body: () -> T) -> T {
  while true {
    let result = body()
    if result != -1 || errno != EINTR { return result }
  }
}

/// Retries `body` through EINTR and turns its -1 into a thrown `Errno`.
@inlinable
public func syscall<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
  let result = retryingEINTR(body)
  if result == -1 { throw Errno.current }
  return result
}
