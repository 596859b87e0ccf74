import ArgumentParser
import BlockIO
import Glibc
import Logging
import NVMeVFU
import VFIOUser

/// `nvme-vfu-server`: an NVMe SSD for virtual machines, over vfio-user.
struct ServerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nvme-vfu-server",
    abstract: "Serve an emulated NVMe SSD to a VMM over vfio-user.",
    discussion: """
      Attach from QEMU (>= 10.1) with
        -object memory-backend-memfd,id=mem,size=...,share=on -machine memory-backend=mem
        -device '{"driver":"vfio-user-pci","socket":{"path":"PATH","type":"unix"}}'
      SIGTERM or SIGINT: finish in-flight I/O, flush, remove the socket, exit 0.
      SIGUSR1: print statistics.
      """)

  @Option(name: .customLong("socket"), help: "UNIX socket path to listen on.")
  var socket: String?

  @Option(
    name: .customLong("socket-path"),
    help: "Same as --socket (the vfio-user backend-program convention).")
  var socketPath: String?

  @Option(
    name: .customLong("fd"),
    help: "Serve an inherited socket descriptor (listening or connected) instead of a path.")
  // A number from the command line, not yet owned: the server takes it when it starts.
  var fd: Int32?

  @Option(
    name: .customLong("backing"),
    help: "Image file, mem:SIZE or null:SIZE; repeat for more namespaces.")
  var backings: [String] = []

  @Option(help: "Create missing image files sparse with this size (e.g. 1G).")
  var size: String?

  @Option(name: .customLong("block-size"), help: "Logical block size: 512 or 4096.")
  var blockSize: Int = 512

  @Flag(help: "Namespaces refuse writes.")
  var readonly = false

  @Option(name: .customLong("io-queues"), help: "I/O queue pairs offered (1-511).")
  var ioQueues: Int = 16

  @Option(name: .customLong("queue-depth"), help: "Largest queue, in entries (2-4096).")
  var queueDepth: Int = 1024

  @Option(help: "Serial number reported by Identify.")
  var serial: String = "NVMEVFU0001"

  @Option(help: "Model number reported by Identify.")
  var model: String = "nvme-vfu SSD"

  @Option(help: "adaptive (sleep when idle) or busy (always spin).")
  var poll: String = "adaptive"

  @Option(
    help: ArgumentHelp(
      "trapped (doorbell writes are messages that wake the server; default) or mapped (a shared page; for SPDK's initiator and --poll busy)."
    ))
  var doorbells: String = "trapped"

  @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.")
  var logLevel: String = "info"

  func validate() throws {
    let endpoints = [socket != nil, socketPath != nil, fd != nil].filter { $0 }.count
    guard endpoints == 1 else {
      throw ValidationError("give exactly one of --socket, --socket-path or --fd")
    }
    guard !backings.isEmpty else { throw ValidationError("give at least one --backing") }
    guard blockSize == 512 || blockSize == 4096 else {
      throw ValidationError("--block-size must be 512 or 4096")
    }
    guard (1...511).contains(ioQueues) else { throw ValidationError("--io-queues must be 1-511") }
    guard (2...4096).contains(queueDepth) else {
      throw ValidationError("--queue-depth must be 2-4096")
    }
    guard PollMode(rawValue: poll) != nil else {
      throw ValidationError("--poll must be adaptive or busy")
    }
    guard DoorbellMode(rawValue: doorbells) != nil else {
      throw ValidationError("--doorbells must be trapped or mapped")
    }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
    }
    guard serial.utf8.count <= 20, model.utf8.count <= 40 else {
      throw ValidationError("--serial is at most 20 bytes and --model at most 40")
    }
  }

  func run() throws {
    var logger = Logger(label: "nvme-vfu-server")
    logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
    let endpoint: ServerConfiguration.Endpoint
    if let fd {
      endpoint = .descriptor(fd)
    } else {
      endpoint = .path(socket ?? socketPath ?? "")
    }
    let createSize: UInt64?
    let specs: [BackendSpec]
    do {
      createSize = try size.map { text throws(BlockIOError) in try ByteSize.parse(text) }
      specs = try backings.map { text throws(BlockIOError) in try BackendSpec(parsing: text) }
    } catch {
      Self.fail(error.description)
    }
    let configuration = ServerConfiguration(
      endpoint: endpoint, backings: specs, createSize: createSize, blockSize: blockSize,
      readOnly: readonly, ioQueues: ioQueues, queueDepth: queueDepth, serialNumber: serial,
      modelNumber: model, pollMode: PollMode(rawValue: poll) ?? .adaptive,
      doorbellMode: DoorbellMode(rawValue: doorbells) ?? .trapped)
    let runner: ServerRunner
    do {
      runner = try ServerRunner(configuration: configuration, logger: logger)
    } catch {
      Self.fail("\(error)")
    }
    runner.run()
  }

  /// One line on stderr, exit status 1: what the user must fix.
  static func fail(_ message: String) -> Never {
    let line = "nvme-vfu-server: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    Glibc.exit(1)
  }
}

ServerCommand.main()
