import CShims
import NVMe
import POSIX
import VFIOUser
import VFIOUserClient

/// A small NVMe host driver on a vfio-user connection: what a guest's `nvme`
/// driver does, in-process, for tests and the benchmark.
///
/// It owns one window of guest RAM (queues, PRP list pages, scratch and the
/// caller's data buffers), rings doorbells through BAR0's mmapped doorbell
/// page when offered (else posted REGION_WRITEs), uses shadow doorbells with
/// EventIdx for the I/O queues when the controller offers them, and wires
/// one MSI-X eventfd per queue. Single-threaded: one thread drives the host
/// and its queues.
///
/// Typical use: `NVMeHost.connect(path:)` (negotiate, enable, identify), then
/// `createIOQueues(count:entries:)`, `allocate` buffers and `submit`/`reap` on
/// a queue, or `execute` for one command at a time.
public final class NVMeHost {
  public struct Configuration: Sendable {
    public var completionMode: CompletionMode = .poll
    /// How guest RAM is shared: a memfd the server maps, or fd-less.
    public var sharing: GuestRAM.Sharing = .memfd
    /// Guest-physical base and size of the RAM window.
    public var ramBase: UInt64 = 0x1_0000_0000
    public var ramSize: Int = 32 << 20
    public var adminQueueEntries: Int = 32
    /// Ring doorbells through the mmapped page when offered (false: always
    /// REGION_WRITE).
    public var mapDoorbells: Bool = true
    /// Use shadow doorbells with EventIdx (Doorbell Buffer Config) for the
    /// I/O queues when the controller offers them (OACS bit 8).
    public var shadowDoorbells: Bool = true
    /// Bound for one synchronous command.
    public var commandTimeoutMilliseconds: Int = 10_000
    /// A name for the memfd (shows in /proc/PID/fd and maps).
    public var ramName: String = "nvme-host-ram"

    public init() {}
  }

  public let client: VFIOUserClient
  public let configuration: Configuration
  public let ram: GuestRAM
  /// CAP as read at attach.
  public let capabilities: ControllerCapabilities
  /// Eventfds wired as MSI-X vectors (vector n serves queue n).
  public let vectors: InterruptVectors?
  /// Identify Controller, once read (`connect` reads it).
  public internal(set) var controllerData: IdentifyControllerData?
  public internal(set) var adminQueue: NVMeQueue?
  public internal(set) var ioQueues: [NVMeQueue] = []
  /// What Set Features (Number of Queues) allocated since the controller
  /// was last enabled.
  public internal(set) var allocatedQueues: (submission: Int, completion: Int)?
  /// Whether the controller accepted Doorbell Buffer Config since it was
  /// last enabled: the I/O queues created since then use shadow doorbells.
  public internal(set) var shadowDoorbellsActive = false

  let doorbells: DoorbellWriter
  /// One page for Identify and other small admin transfers.
  let scratch: GuestBuffer
  let adminMemory: QueueMemory
  /// Queue memory by queue ID, reused when a queue is recreated.
  var queueMemory: [UInt16: QueueMemory] = [:]
  /// The shadow doorbell and EventIdx pages, taken the first time they are
  /// offered and wanted, reused after every reset.
  var shadowPages: ShadowDoorbellPages?

  /// BAR0 and the PCI configuration space (VFIO region indexes).
  static let bar0: UInt32 = 0
  static let configRegion: UInt32 = 7

  /// Attaches to a negotiated client: shares guest RAM, reads CAP, maps the
  /// doorbells and wires the vectors. The controller is not touched yet
  /// (`enableController` brings it up).
  public init(client: VFIOUserClient, configuration: Configuration = Configuration())
    throws(NVMeHostError)
  {
    self.client = client
    self.configuration = configuration
    do {
      ram = try GuestRAM(
        client: client, base: configuration.ramBase, size: configuration.ramSize,
        sharing: configuration.sharing, name: configuration.ramName)
      capabilities = ControllerCapabilities(
        raw: try Self.read64(client, RegisterOffset.cap))
      doorbells = try DoorbellWriter(
        client: client, region: Self.bar0, doorbellOffset: RegisterOffset.doorbells,
        stride: capabilities.doorbellStride, allowMmap: configuration.mapDoorbells)
      let available = Int(try client.irqInfo(InterruptVectors.msixIndex).count)
      vectors = available > 0 ? try InterruptVectors(client: client, count: available) : nil
      scratch = try ram.allocatePages(1)
    } catch {
      throw .transport(error)
    }
    guard capabilities.supportsNVMCommandSet else {
      throw .unsupported("CAP.CSS lacks the NVM command set")
    }
    guard capabilities.minimumPageSize <= GuestRAM.pageSize,
      capabilities.maximumPageSize >= GuestRAM.pageSize
    else { throw .unsupported("4 KiB memory pages (CAP.MPSMIN/MPSMAX)") }
    if configuration.completionMode == .interrupt && vectors == nil {
      throw .unsupported("interrupt completion without MSI-X vectors")
    }
    let entries = max(2, min(configuration.adminQueueEntries, 4096, capabilities.maxQueueEntries))
    do {
      adminMemory = try QueueMemory(entries: entries, ram: ram)
    } catch {
      throw .transport(error)
    }
  }

  deinit { releaseLocally() }

  /// Connects to `path`, negotiates, attaches, enables the controller and
  /// reads Identify Controller.
  public static func connect(path: String, configuration: Configuration = Configuration())
    throws(NVMeHostError) -> NVMeHost
  {
    let client: VFIOUserClient
    do {
      client = try VFIOUserClient(path: path)
      try client.negotiate()
    } catch {
      throw .transport(error)
    }
    let host = try NVMeHost(client: client, configuration: configuration)
    try host.enableController()
    _ = try host.identifyController()
    return host
  }

  /// Whether doorbells are plain stores into the mmapped page.
  public var doorbellsMapped: Bool { doorbells.isMapped }

  /// Writes `value` to doorbell `slot` (SQ y tail: 2y, CQ y head: 2y + 1)
  /// the way the queues ring theirs, but without their bookkeeping: for
  /// tests of what a controller does with values a correct host never writes.
  /// With shadow doorbells active an I/O queue's value goes into the shadow
  /// too (that is where the controller reads it), and the real doorbell is
  /// rung whatever EventIdx says.
  public func writeDoorbell(slot: Int, value: UInt32) throws(NVMeHostError) {
    if shadowDoorbellsActive, slot >= 2, let pointers = shadowPages?.pointers(slot: slot) {
      cshim_store_release_u32(pointers.shadow, value.littleEndian)
      cshim_fence_seq_cst()
    }
    do {
      try doorbells.ring(slot: slot, value: value)
    } catch {
      throw .transport(error)
    }
  }

  /// Zeroed guest memory for data buffers (page aligned).
  public func allocate(_ count: Int) throws(NVMeHostError) -> GuestBuffer {
    do {
      return try ram.allocate(count)
    } catch {
      throw error == .noSpace ? .invalidArgument("guest RAM exhausted") : .transport(error)
    }
  }

  /// Drops everything held here (mappings, eventfds, guest RAM) without a
  /// message: for a connection that is gone, or an abrupt exit.
  public func releaseLocally() {
    doorbells.close()
    vectors?.close()
    ram.releaseLocally()
  }

  // MARK: registers

  func read32(_ offset: UInt64) throws(NVMeHostError) -> UInt32 {
    do {
      return try client.regionRead32(Self.bar0, offset: offset)
    } catch {
      throw .transport(error)
    }
  }

  func write32(_ offset: UInt64, _ value: UInt32) throws(NVMeHostError) {
    do {
      try client.regionWrite32(Self.bar0, offset: offset, value)
    } catch {
      throw .transport(error)
    }
  }

  func write64(_ offset: UInt64, _ value: UInt64) throws(NVMeHostError) {
    var bytes = [UInt8](repeating: 0, count: 8)
    for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    do {
      try client.regionWrite(Self.bar0, offset: offset, data: bytes)
    } catch {
      throw .transport(error)
    }
  }

  static func read64(_ client: VFIOUserClient, _ offset: UInt64) throws(Errno) -> UInt64 {
    let bytes = try client.regionRead(bar0, offset: offset, count: 8)
    guard bytes.count == 8 else { throw .protocolError }
    return bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
  }

  /// CSTS as last read.
  public func controllerStatus() throws(NVMeHostError) -> UInt32 {
    try read32(RegisterOffset.csts)
  }
}

/// CAP (Controller Capabilities), decoded.
public struct ControllerCapabilities: Sendable, Hashable {
  public let raw: UInt64

  public init(raw: UInt64) { self.raw = raw }

  /// MQES + 1.
  public var maxQueueEntries: Int { Int(raw & 0xFFFF) + 1 }
  public var contiguousQueuesRequired: Bool { raw & (1 << 16) != 0 }
  /// CAP.TO in milliseconds (500 ms units); at least 500 ms.
  public var readyTimeoutMilliseconds: Int { max(1, Int((raw >> 24) & 0xFF)) * 500 }
  /// Bytes between doorbells: 4 << DSTRD.
  public var doorbellStride: Int { 4 << Int((raw >> 32) & 0xF) }
  public var supportsNVMCommandSet: Bool { raw & (1 << 37) != 0 }
  public var minimumPageSize: Int { 4096 << Int((raw >> 48) & 0xF) }
  public var maximumPageSize: Int { 4096 << Int((raw >> 52) & 0xF) }
}
