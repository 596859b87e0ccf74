import BlockIO
import NVMe

/// Everything `nvme-vfu-server` is started with, already validated by the
/// command line layer's types but not yet checked against the world.
public struct ServerConfiguration: Sendable {
  public enum Endpoint: Sendable, Hashable {
    /// Listen on a UNIX socket path (a stale socket file is replaced).
    case path(String)
    /// An inherited descriptor: a listening socket, or one already connected. A number
    /// from the command line; the server takes ownership when it starts.
    case descriptor(Int32)
  }

  public var endpoint: Endpoint
  /// One namespace per entry, NSIDs from 1 in this order.
  public var backings: [BackendSpec]
  /// Size for image files that do not exist yet (created sparse).
  public var createSize: UInt64?
  public var blockSize: Int
  public var readOnly: Bool
  public var ioQueues: Int
  public var queueDepth: Int
  public var serialNumber: String
  public var modelNumber: String
  public var pollMode: PollMode
  public var doorbellMode: DoorbellMode

  public init(
    endpoint: Endpoint, backings: [BackendSpec], createSize: UInt64? = nil, blockSize: Int = 512,
    readOnly: Bool = false, ioQueues: Int = 16, queueDepth: Int = 1024,
    serialNumber: String = "NVMEVFU0001", modelNumber: String = "nvme-vfu SSD",
    pollMode: PollMode = .adaptive, doorbellMode: DoorbellMode = .trapped
  ) {
    self.endpoint = endpoint
    self.backings = backings
    self.createSize = createSize
    self.blockSize = blockSize
    self.readOnly = readOnly
    self.ioQueues = ioQueues
    self.queueDepth = queueDepth
    self.serialNumber = serialNumber
    self.modelNumber = modelNumber
    self.pollMode = pollMode
    self.doorbellMode = doorbellMode
  }

  public var controllerSettings: ControllerSettings {
    ControllerSettings(
      serialNumber: serialNumber, modelNumber: modelNumber, ioQueues: ioQueues,
      maxQueueEntries: queueDepth)
  }
}
