import Glibc
import NVMe
import NVMeHostDriver
import VFIOUserClient

// nvme-vfu-fault-client: the client the fault tests kill with SIGKILL while
// it has I/O in flight (a separate process, so the kernel, not the client,
// tears its end down: socket, eventfds, guest RAM).
//
//   nvme-vfu-fault-client --socket PATH [--queues N] [--depth N] [--ram-name NAME]
//
// Connects like a guest (negotiate, share guest RAM, enable, identify),
// creates N I/O queue pairs and keeps `depth` commands (4 KiB writes and
// reads, alternating) in flight on each. Once every queue has completed
// commands and been refilled it prints "inflight N" (N commands
// outstanding) on stdout and keeps going until it is killed. Any failure:
// one line on stderr, exit status 1.

func fail(_ message: String) -> Never {
  let line = "nvme-vfu-fault-client: \(message)\n"
  _ = line.withCString { write(2, $0, strlen($0)) }
  exit(1)
}

struct Options {
  var socketPath = ""
  var queues = 2
  var depth = 16
  var ramName = "nvme-fault-client-ram"

  init(_ arguments: [String]) {
    var socketPath: String?
    var iterator = arguments.makeIterator()
    while let flag = iterator.next() {
      guard let value = iterator.next() else { fail("\(flag) needs a value") }
      switch flag {
      case "--socket": socketPath = value
      case "--queues": queues = Int(value) ?? 0
      case "--depth": depth = Int(value) ?? 0
      case "--ram-name": ramName = value
      default: fail("unknown option \(flag)")
      }
    }
    guard let socketPath else { fail("--socket is required") }
    guard (1...16).contains(queues), (1...255).contains(depth) else {
      fail("--queues must be 1-16 and --depth 1-255")
    }
    self.socketPath = socketPath
  }
}

/// The load: 4 KiB writes and reads at random places in the first 8 MiB.
final class Load {
  static let blockBytes = 4096
  static let chunks: UInt64 = 2048

  let options: Options
  let host: NVMeHost
  let queues: [NVMeQueue]
  var buffers: [GuestBuffer] = []
  var random = SystemRandomNumberGenerator()
  var submitted: UInt64 = 0
  var completed: [Int] = []

  init(_ options: Options) throws(NVMeHostError) {
    self.options = options
    var configuration = NVMeHost.Configuration()
    configuration.ramName = options.ramName
    configuration.ramSize = 4 << 20
    host = try NVMeHost.connect(path: options.socketPath, configuration: configuration)
    queues = try host.createIOQueues(count: options.queues, entries: options.depth + 1)
    for _ in 0..<(options.queues * options.depth) {
      buffers.append(try host.allocate(Self.blockBytes))
    }
  }

  func submit(tag: Int, on queue: NVMeQueue) throws(NVMeHostError) {
    let blocks = Self.blockBytes / 512
    let lba = UInt64.random(in: 0..<Self.chunks, using: &random) * UInt64(blocks)
    let buffer = buffers[tag]
    let command =
      submitted % 2 == 0
      ? NVMeCommand.write(lba: lba, blocks: blocks, buffer: buffer)
      : NVMeCommand.read(lba: lba, blocks: blocks, buffer: buffer)
    submitted &+= 1
    try queue.submit(command, tag: UInt64(tag), ring: false)
  }

  /// Never returns: runs until killed, or fails.
  func run() throws(NVMeHostError) -> Never {
    let depth = options.depth
    for (index, queue) in queues.enumerated() {
      for slot in 0..<depth { try submit(tag: index * depth + slot, on: queue) }
      try queue.ringDoorbell()
    }
    var refilled = [Bool](repeating: false, count: queues.count)
    var announced = false
    while true {
      for (index, queue) in queues.enumerated() where queue.hasCompletion {
        completed.removeAll(keepingCapacity: true)
        try queue.reap { completion in
          if !completion.isSuccess { fail("command failed: \(completion.status)") }
          completed.append(Int(completion.tag))
        }
        for tag in completed { try submit(tag: tag, on: queue) }
        try queue.ringDoorbell()
        refilled[index] = true
      }
      if !announced && refilled.allSatisfy({ $0 }) {
        announced = true
        let outstanding = queues.reduce(0) { $0 + $1.outstanding }
        let line = "inflight \(outstanding)\n"
        _ = line.withCString { write(1, $0, strlen($0)) }
      }
    }
  }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
do {
  try Load(options).run()
} catch {
  fail("\(error)")
}
