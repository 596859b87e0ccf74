/// What a controller is built with: identity and limits. Namespaces are
/// passed separately.
public struct ControllerSettings: Sendable, Hashable {
  public var serialNumber: String
  public var modelNumber: String
  public var firmwareRevision: String
  /// I/O queue pairs offered (Number of Queues maximum).
  public var ioQueues: Int
  /// Largest queue in entries (CAP.MQES + 1).
  public var maxQueueEntries: Int
  /// MDTS as a power of two of the 4 KiB minimum page.
  public var mdtsExponent: UInt8
  /// MSI-X vectors the PCI function has (vector 0 is the admin queue's).
  public var interruptVectors: Int
  /// Advertise SGL support for I/O commands.
  public var sglSupported: Bool
  /// Highest NSID the controller supports (Identify Controller NN); hot-add
  /// picks NSIDs up to it.
  public var maxNamespaces: Int

  public init(
    serialNumber: String = "NVMEVFU0001", modelNumber: String = "nvme-vfu",
    firmwareRevision: String = "1.0", ioQueues: Int = 16, maxQueueEntries: Int = 1024,
    mdtsExponent: UInt8 = 7, interruptVectors: Int = 17, sglSupported: Bool = true,
    maxNamespaces: Int = 32
  ) {
    self.serialNumber = serialNumber
    self.modelNumber = modelNumber
    self.firmwareRevision = firmwareRevision
    self.ioQueues = ioQueues
    self.maxQueueEntries = maxQueueEntries
    self.mdtsExponent = mdtsExponent
    self.interruptVectors = interruptVectors
    self.sglSupported = sglSupported
    self.maxNamespaces = maxNamespaces
  }

  /// MDTS in bytes (the minimum page is 4 KiB).
  public var maxTransferBytes: Int { 4096 << Int(mdtsExponent) }
}
