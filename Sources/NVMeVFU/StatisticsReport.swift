import BackendContract
import NVMe

/// The text printed on SIGUSR1 and at exit.
enum StatisticsReport {
  static func render(
    controller: NVMeController, reactor: ReactorStatistics, mode: DoorbellMode
  ) -> String {
    var lines: [String] = ["statistics:"]
    for queue in controller.queueReport {
      lines.append(
        "  queue \(queue.id): commands \(queue.statistics.commands), bytes \(queue.statistics.bytes), errors \(queue.statistics.errors), in flight \(queue.outstanding)\(queue.shadowed ? ", shadowed" : "")"
      )
    }
    if let buffers = controller.shadowDoorbellAddresses {
      lines.append(
        "  shadow doorbells: buffer 0x\(String(buffers.doorbells, radix: 16)), EventIdx 0x\(String(buffers.eventIndexes, radix: 16)), queues \(controller.shadowedQueueIDs.map(String.init).joined(separator: ","))"
      )
    } else {
      lines.append("  shadow doorbells: not configured")
    }
    lines.append(
      "  doorbells: \(mode.rawValue), doorbell writes by message \(controller.doorbellMessages), EventIdx armings \(controller.eventIndexArmings)"
    )
    for ns in controller.namespaces {
      let stats = ns.backend.statistics
      lines.append(
        "  namespace \(ns.id): submitted \(stats.submitted), completed \(stats.completed), failed \(stats.failed), read \(stats.bytesRead) B, written \(stats.bytesWritten) B, bounced \(stats.bounced), io_submit calls \(stats.submitCalls), in flight \(ns.backend.inFlight)"
      )
    }
    let busy = Double(reactor.busyNanoseconds) / 1e9
    let idle = Double(reactor.idleNanoseconds) / 1e9
    lines.append(
      "  reactor: turns \(reactor.turns), busy \(format(busy)) s, idle \(format(idle)) s, sleeps \(reactor.sleeps) (\(reactor.untimedSleeps) without timeout)"
    )
    return lines.joined(separator: "\n")
  }

  private static func format(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return "\(scaled)"
  }
}
