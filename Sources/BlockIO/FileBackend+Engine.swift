import Glibc
import POSIX

/// Choosing and opening the kernel queue.
extension FileBackend {
  static func kernelQueue(
    _ engine: FileEngine, path: String, depth: Int, fd: Int32, eventFD: Int32
  ) throws(BlockIOError) -> any KernelQueue {
    switch engine {
    case .libaio:
      do throws(Errno) {
        return try AIOQueue(capacity: depth, fd: fd, eventFD: eventFD)
      } catch {
        throw .system("\(path): io_setup(\(depth))", errno: error)
      }
    case .ioUring:
      do throws(URingQueue.SetupError) {
        return try URingQueue(capacity: depth, fd: fd, eventFD: eventFD)
      } catch {
        throw uringError(error, path: path)
      }
    }
  }

  /// One line that says what the kernel lacks and what to do instead.
  static func uringError(_ error: URingQueue.SetupError, path: String) -> BlockIOError {
    let subject = "\(path): engine=io_uring"
    if let opcode = error.missingOpcode {
      return BlockIOError(
        subject: subject, errno: error.errno,
        reason: "this kernel's io_uring lacks IORING_OP_\(opcode); use engine=libaio")
    }
    switch error.errno.code {
    case ENOSYS:
      return BlockIOError(
        subject: subject, errno: error.errno,
        reason: "this kernel has no io_uring (\(error.stage): ENOSYS); use engine=libaio")
    case EPERM where error.stage == "io_uring_setup":
      return BlockIOError(
        subject: subject, errno: error.errno,
        reason:
          "io_uring is not allowed here (sysctl kernel.io_uring_disabled; or this server's sandbox, which allows it only when a namespace at start uses it); use engine=libaio"
      )
    default:
      return BlockIOError(
        subject: subject, errno: error.errno, reason: "\(error.stage): \(error.errno.text)")
    }
  }

  /// The libaio queue, for tests that sabotage its iocbs.
  var aio: AIOQueue? { kernel as? AIOQueue }
  /// The io_uring queue, for tests that sabotage its requests.
  var uring: URingQueue? { kernel as? URingQueue }
}
