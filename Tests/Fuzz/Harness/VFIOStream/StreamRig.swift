import BackendContract
import BlockIO
import Glibc
import NVMe
import NVMeVFU
import POSIX
import VFIOUser

/// One input's world: the NVMe device and the vfio-user server exactly as
/// `nvme-vfu-server` builds them, a fake client on a socket pair, and the
/// client's own mapping of BAR0's doorbell page.
///
/// A reactor turn is what `Reactor.run` does when busy: `serviceConnection()`
/// then `controller.poll()`. The harness calls them itself, one turn per
/// record, so an input always takes the same path (no timing in between).
final class StreamRig {
  let config: StreamConfig
  let backends: [any BlockBackend]
  let device: NVMeDevice
  let server: VFIOUserServer
  let descriptors = FakeDescriptors()
  let ram = RemoteRAM()
  private let doorbellPage: MemoryMapping
  private(set) var client: FileDescriptor?
  private var peer: ClientPeer?
  private var nextID: UInt16 = 0
  /// Connections beyond the first an input may open (after a drop or on request).
  private var reconnectsLeft = 3

  init?(_ config: StreamConfig) {
    self.config = config
    var specs: [(any BlockBackend, Int)] = []
    switch config.backing {
    case .memory: specs = [MemoryBackend(size: 1 << 20).map { ($0, 512) }].compactMap { $0 }
    case .null: specs = [(NullBackend(size: 1 << 20), 512)]
    case .twoNamespaces:
      specs = [MemoryBackend(size: 512 << 10).map { ($0, 512) }].compactMap { $0 }
      specs.append((NullBackend(size: 1 << 20), 4096))
    case .bigBlocks: specs = [MemoryBackend(size: 1 << 20).map { ($0, 4096) }].compactMap { $0 }
    }
    var namespaces: [Namespace] = []
    for (index, (backend, blockSize)) in specs.enumerated() {
      guard
        let ns = Namespace(
          id: UInt32(index + 1), backend: backend, blockSize: blockSize, identifierSeed: "FUZZ")
      else { return nil }
      namespaces.append(ns)
    }
    guard !namespaces.isEmpty else { return nil }
    backends = specs.map(\.0)
    let settings = ControllerSettings(
      serialNumber: "FUZZ0001", modelNumber: "nvme-vfu fuzz",
      ioQueues: config.smallController ? 2 : 16,
      maxQueueEntries: config.smallController ? 64 : 1024)
    var options = ServerOptions()
    options.dmaLayout = config.qemuLayout ? .qemu : .spec
    // The fake client always answers at once; a wait this long is a bug.
    options.replyTimeoutMilliseconds = 2000
    do {
      // Mapped: the streams ring doorbells through the BAR0 memfd.
      device = try NVMeDevice(settings: settings, namespaces: namespaces, doorbells: .mapped)
      guard let fd = device.region(0).mmap?.fd else { return nil }
      doorbellPage = try MemoryMapping.map(
        fd: fd, offset: BAR0Layout.doorbellOffset, length: BAR0Layout.doorbellSize,
        access: .readWrite)
    } catch {
      return nil
    }
    server = VFIOUserServer(device: device, options: options)
  }

  var isConnected: Bool { server.connection != nil }

  // MARK: connection

  /// A new client: a socket pair whose other end the server serves.
  @discardableResult
  func connect() -> Bool {
    guard !isConnected, let (ours, theirs) = try? UnixSocket.pair() else { return false }
    do {
      try server.attach(socket: theirs)
      try ours.setNonBlocking()
    } catch {
      ours.close()
      return false
    }
    client = ours
    let peer = ClientPeer(socket: ours, ram: ram, config: config)
    peer.start()
    self.peer = peer
    return true
  }

  /// Reconnects after the server dropped the client, within the budget.
  func reconnectIfDropped(force: Bool = false, _ report: inout FuzzReport) -> Bool {
    if isConnected && !force { return true }
    guard reconnectsLeft > 0 else { return false }
    reconnectsLeft -= 1
    disconnect(&report)
    report.count("connections")
    return connect()
  }

  /// Ends the stream (the server sees EOF after what is in flight), lets the
  /// server drop the client, and collects the peer's tally.
  func disconnect(_ report: inout FuzzReport) {
    guard let client else { return }
    UnixSocket.shutdownWrite(client)
    var turns = 0
    while isConnected && turns < 10_000 {
      turn()
      turns += 1
    }
    report.require(!isConnected, "server did not notice the end of the stream")
    if isConnected { server.dropClient(reason: "harness") }
    if let tally = peer?.join() {
      report.count("replies", tally.replies)
      report.count("errorReplies", tally.errorReplies)
      report.count("dmaRequests", tally.dmaRequests)
      for violation in tally.violations { report.require(false, violation) }
    }
    peer = nil
    client.close()
    self.client = nil
  }

  /// Commands the controller completed, as far as its queue statistics
  /// show them (queues vanish at reset; the most seen at once counts).
  private(set) var nvmeCommands = 0

  func turn() {
    server.serviceConnection()
    if device.controller.poll() > 0 {
      var total: UInt64 = 0
      for queue in device.controller.queueReport { total &+= queue.statistics.commands }
      nvmeCommands = max(nvmeCommands, Int(clamping: total))
    }
  }

  // MARK: client actions

  func makeID() -> UInt16 {
    defer { nextID &+= 1 }
    return nextID
  }

  /// Sends one message with `fds`; closes the client's copies it does not
  /// keep. A vanished server is fine (the next record reconnects).
  func send(_ bytes: [UInt8], fds: [(fd: FileDescriptor, keepsOwnCopy: Bool)]) {
    defer { for (fd, keepsOwnCopy) in fds where !keepsOwnCopy { fd.close() } }
    guard let client else { return }
    try? UnixSocket.send(client, bytes, fds: fds.map(\.fd))
  }

  /// A doorbell write through the client's mmap of the doorbell page.
  func ringDoorbell(slot: Int, value: UInt32) {
    let slots = Int(BAR0Layout.doorbellSize) / 4
    doorbellPage.base.storeBytes(
      of: value.littleEndian, toByteOffset: (slot % slots) * 4, as: UInt32.self)
  }

  func tearDown(_ report: inout FuzzReport) {
    disconnect(&report)
    device.controller.quiesce()
    server.dropClient(reason: nil)
    doorbellPage.unmap()
    descriptors.closeAll()
    for backend in backends { backend.close() }
  }
}
