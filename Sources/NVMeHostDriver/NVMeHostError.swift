import NVMe
import POSIX
import VFIOUser

/// Why a host driver call failed.
public enum NVMeHostError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A vfio-user request failed (the errno is the server's or the socket's).
  case transport(Errno)
  /// The controller completed the command with an error status.
  case command(opcode: UInt8, admin: Bool, status: NVMeStatus)
  /// CSTS.RDY or a completion did not come within the bound.
  case timeout(String)
  /// CSTS.CFS: the controller reported a fatal status.
  case controllerFatal
  /// The controller lacks something this driver needs.
  case unsupported(String)
  /// A bad request from the caller (no controller was involved).
  case invalidArgument(String)
  /// No free command slot on the queue (queue depth reached).
  case queueFull
  /// The controller broke the protocol (e.g. a completion for an unknown CID).
  case protocolViolation(String)

  /// The NVMe status, for command failures.
  public var status: NVMeStatus? {
    if case .command(_, _, let status) = self { return status }
    return nil
  }

  public var description: String {
    switch self {
    case .transport(let error): "vfio-user: \(error)"
    case .command(let opcode, let admin, let status):
      "\(admin ? "admin" : "I/O") command 0x\(String(opcode, radix: 16)) failed: \(status)"
    case .timeout(let what): "timed out waiting for \(what)"
    case .controllerFatal: "controller fatal status (CSTS.CFS)"
    case .unsupported(let what): "unsupported: \(what)"
    case .invalidArgument(let what): "invalid argument: \(what)"
    case .queueFull: "queue full"
    case .protocolViolation(let what): "controller protocol violation: \(what)"
    }
  }
}
