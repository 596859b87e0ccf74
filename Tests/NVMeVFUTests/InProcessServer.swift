import BackendContract
import BlockIO
import CShims
import Foundation
import Glibc
import NVMe
import NVMeHostDriver
import NVMeVFU
import POSIX
import Synchronization
import TestSupport
import VFIOUser

/// The real server in this process: NVMe device, vfio-user server and
/// reactor, all built and run on one thread of their own, listening at a
/// fresh socket path. The test thread talks to it only through the socket,
/// the stop eventfd, and backends that are themselves thread-safe.
final class InProcessServer: Sendable {
  static let serial = "NVMEVFUTEST01"
  static let model = "nvme-vfu test"

  let path: String
  /// The reactor thread's kernel id, for /proc/self/task/TID.
  let reactorThreadID: Int32
  private let stop: StopSignal
  private let finished = DispatchSemaphore(value: 0)

  /// `makeBackends` runs on the reactor thread, so the backends (not
  /// Sendable) are created where they live and never cross threads.
  init(
    mode: PollMode = .adaptive, policy: IdlePolicy = IdlePolicy(),
    doorbells: DoorbellMode = .trapped, ioQueues: Int = 4, queueDepth: Int = 256,
    options: ServerOptions = ServerOptions(),
    makeBackends: @escaping @Sendable () throws -> [any BlockBackend] = {
      [MemoryBackend(size: 8 << 20)].compactMap { $0 }
    },
    configure: @escaping @Sendable (NVMeController) throws -> Void = { _ in }
  ) throws {
    let dir = FileManager.default.temporaryDirectory.path
    path = "\(dir)/nvme-vfu-test-\(UUID().uuidString.prefix(8)).sock"
    let stop = try StopSignal()
    self.stop = stop
    let path = self.path
    let finished = self.finished
    let ready = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    let threadID = Mutex<Int32>(0)
    Thread.detachNewThread {
      threadID.withLock { $0 = cshim_gettid() }
      do {
        let settings = ControllerSettings(
          serialNumber: Self.serial, modelNumber: Self.model, ioQueues: ioQueues,
          maxQueueEntries: queueDepth)
        let backends = try makeBackends()
        var namespaces: [Namespace] = []
        for (index, backend) in backends.enumerated() {
          guard
            let ns = Namespace(
              id: UInt32(index + 1), backend: backend, blockSize: 512,
              identifierSeed: Self.serial)
          else { throw Errno.invalidArgument }
          namespaces.append(ns)
        }
        let device = try NVMeDevice(
          settings: settings, namespaces: namespaces, doorbells: doorbells)
        // On the reactor thread, before the reactor runs: e.g. QoS limits.
        try configure(device.controller)
        let server = VFIOUserServer(device: device, options: options)
        let reactor = Reactor(server: server, device: device, mode: mode, policy: policy)
        try server.listen(path: path)
        reactor.addWakeup(fd: stop.fd) {
          _ = EventFD.drain(stop.fd)
          return false
        }
        ready.signal()
        reactor.run()
        device.controller.quiesce()
        server.dropClient(reason: nil)
        server.closeListener()
        for ns in namespaces { ns.backend.close() }
      } catch {
        failure.withLock { $0 = "\(error)" }
        ready.signal()
      }
      finished.signal()
    }
    ready.wait()
    reactorThreadID = threadID.withLock { $0 }
    if let message = failure.withLock({ $0 }) {
      finished.wait()
      stop.close()
      throw StartFailure(message: message)
    }
  }

  struct StartFailure: Error { var message: String }

  /// Stops the reactor (it finishes in-flight I/O and closes everything).
  func shutdown() {
    stop.signal()
    finished.wait()
    stop.close()
  }

  /// A negotiated host with the controller enabled and identified.
  func host(_ configure: (inout NVMeHost.Configuration) -> Void = { _ in }) throws -> NVMeHost {
    var configuration = NVMeHost.Configuration()
    configuration.ramSize = 8 << 20
    configure(&configuration)
    return try NVMeHost.connect(path: path, configuration: configuration)
  }

  /// CPU time the reactor thread has used so far, in seconds.
  func reactorCPUSeconds() -> Double? {
    ProcessProbe.threadCPUSeconds(reactorThreadID)
  }
}
