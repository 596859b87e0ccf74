import Glibc

/// The fuzz targets: each takes one input of bytes and reports what broke.
public enum FuzzTarget: String, CaseIterable, Sendable {
  /// vfio-user message streams (with descriptors) against the real NVMe device.
  case vfioStream = "vfio-stream"
  /// SQEs, doorbells, registers and guest memory against the NVMe controller.
  case nvmeCommands = "nvme-commands"
  /// The VERSION payload: major, minor and the capabilities JSON.
  case versionJSON = "version-json"

  public func run(_ input: [UInt8]) -> FuzzReport {
    _ = Self.ignoreSIGPIPE
    switch self {
    case .vfioStream: return StreamHarness.run(input)
    case .nvmeCommands: return CommandHarness.run(input)
    case .versionJSON: return VersionHarness.run(input)
    }
  }

  /// Longest input worth generating (libFuzzer's -max_len).
  public var maxInputLength: Int {
    switch self {
    case .vfioStream: 8192
    case .nvmeCommands: 4096
    case .versionJSON: 4200
    }
  }

  /// A write to a peer that went away is an EPIPE to handle, not a signal
  /// that ends the process (the server does the same at startup).
  private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}
