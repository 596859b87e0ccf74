import BackendContract
import BlockIO
import Glibc
import Logging
import NVMe
import POSIX
import VFIOUser

/// Why the server could not start, as one line for the user.
public struct ServerStartError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Wires backends, controller, vfio-user server and reactor together and
/// runs them until SIGTERM or SIGINT. SIGUSR1 prints statistics.
public final class ServerRunner {
  public let configuration: ServerConfiguration
  public let device: NVMeDevice
  public let server: VFIOUserServer
  public let reactor: Reactor
  private let signals: SignalFD
  private let logger: Logger

  /// Opens everything; throws a one-line error for anything the user must fix.
  public init(
    configuration: ServerConfiguration, logger: Logger
  ) throws {
    self.configuration = configuration
    self.logger = logger
    // Before any thread exists (backends may start helpers): they inherit
    // the mask, so these signals only ever arrive through the signalfd.
    signals = try SignalFD(signals: [SIGTERM, SIGINT, SIGUSR1, SIGHUP])
    signal(SIGPIPE, SIG_IGN)
    var namespaces: [Namespace] = []
    for (index, spec) in configuration.backings.enumerated() {
      let backend: any BlockBackend
      do {
        var size: UInt64? = nil
        if case .file = spec { size = configuration.createSize }
        let opened = try BackendFactory.open(
          spec: spec, size: size, readOnly: configuration.readOnly,
          blockSize: configuration.blockSize)
        backend = opened.backend
        for warning in opened.warnings { logger.warning("\(warning)") }
      } catch {
        for ns in namespaces { ns.backend.close() }
        throw ServerStartError(error.description)
      }
      guard
        let ns = Namespace(
          id: UInt32(index + 1), backend: backend, blockSize: configuration.blockSize,
          readOnly: configuration.readOnly, identifierSeed: configuration.serialNumber)
      else {
        backend.close()
        for ns in namespaces { ns.backend.close() }
        throw ServerStartError(
          "\(spec): size \(backend.size) is not a multiple of the \(configuration.blockSize)-byte block size"
        )
      }
      namespaces.append(ns)
    }
    device = try NVMeDevice(
      settings: configuration.controllerSettings, namespaces: namespaces,
      doorbells: configuration.doorbellMode)
    server = VFIOUserServer(device: device)
    server.logger = logger
    device.logger = logger
    reactor = Reactor(server: server, device: device, mode: configuration.pollMode)
    do {
      switch configuration.endpoint {
      case .path(let path): try server.listen(path: path)
      case .descriptor(let fd): try server.adopt(FileDescriptor(owning: fd))
      }
    } catch {
      for ns in namespaces { ns.backend.close() }
      switch configuration.endpoint {
      case .path(let path):
        let reason = error.code == EADDRINUSE ? "already served by a live server" : "\(error)"
        throw ServerStartError("\(path): \(reason)")
      case .descriptor(let fd):
        throw ServerStartError("--fd \(fd): \(error)")
      }
    }
    reactor.addWakeup(fd: signals.fd) { [unowned self] in self.handleSignals() }
  }

  /// Serves until told to stop, then finishes in-flight I/O, flushes, and
  /// removes the socket.
  public func run() {
    logger.info("serving \(device.controller.namespaces.count) namespace(s)")
    reactor.run()
    logger.info("stopping: finishing in-flight I/O and flushing")
    device.controller.quiesce()
    server.dropClient(reason: nil)
    server.closeListener()
    for ns in device.controller.namespaces { ns.backend.close() }
    signals.close()
    logger.info("\(statisticsReport())")
  }

  private func handleSignals() -> Bool {
    var keepRunning = true
    while let signo = signals.next() {
      switch signo {
      case SIGUSR1: logger.info("\(statisticsReport())")
      default:
        logger.info("received signal \(signo)")
        keepRunning = false
      }
    }
    return keepRunning
  }

  public func statisticsReport() -> String {
    StatisticsReport.render(
      controller: device.controller, reactor: reactor.statistics, mode: device.doorbellMode)
  }
}
