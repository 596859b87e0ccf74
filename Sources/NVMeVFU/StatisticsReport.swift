import BackendContract
import Logging
import NVMe

/// What SIGUSR1 and the stop log: one structured event per queue, per namespace, and
/// for the doorbells and the reactor, the figures as metadata (`key=value` in text,
/// members in JSON) so a log reader can pick them out.
enum StatisticsReport {
  struct Event {
    var message: String
    var metadata: Logger.Metadata
  }

  static func events(
    controller: NVMeController, reactor: ReactorStatistics, mode: DoorbellMode
  ) -> [Event] {
    var events: [Event] = []
    for queue in controller.queueReport {
      events.append(
        Event(
          message: "statistics: queue \(queue.id)",
          metadata: [
            "qid": .stringConvertible(queue.id),
            "commands": .stringConvertible(queue.statistics.commands),
            "bytes": .stringConvertible(queue.statistics.bytes),
            "errors": .stringConvertible(queue.statistics.errors),
            "in_flight": .stringConvertible(queue.outstanding),
            "shadowed": .stringConvertible(queue.shadowed),
          ]))
    }
    if let buffers = controller.shadowDoorbellAddresses {
      events.append(
        Event(
          message: "statistics: shadow doorbells",
          metadata: [
            "buffer": "0x\(String(buffers.doorbells, radix: 16))",
            "eventidx": "0x\(String(buffers.eventIndexes, radix: 16))",
            "queues": .string(controller.shadowedQueueIDs.map(String.init).joined(separator: ",")),
          ]))
    } else {
      events.append(Event(message: "statistics: shadow doorbells not configured", metadata: [:]))
    }
    events.append(
      Event(
        message: "statistics: doorbells",
        metadata: [
          "mode": .string(mode.rawValue),
          "messages": .stringConvertible(controller.doorbellMessages),
          "eventidx_armings": .stringConvertible(controller.eventIndexArmings),
        ]))
    for ns in controller.namespaces {
      let stats = ns.backend.statistics
      events.append(
        Event(
          message: "statistics: namespace \(ns.id)",
          metadata: [
            "nsid": .stringConvertible(ns.id), "submitted": .stringConvertible(stats.submitted),
            "completed": .stringConvertible(stats.completed),
            "failed": .stringConvertible(stats.failed),
            "bytes_read": .stringConvertible(stats.bytesRead),
            "bytes_written": .stringConvertible(stats.bytesWritten),
            "bounced": .stringConvertible(stats.bounced),
            "submit_calls": .stringConvertible(stats.submitCalls),
            "in_flight": .stringConvertible(ns.backend.inFlight),
          ]))
    }
    events.append(
      Event(
        message: "statistics: reactor",
        metadata: [
          "turns": .stringConvertible(reactor.turns),
          "busy_seconds": .stringConvertible(seconds(reactor.busyNanoseconds)),
          "idle_seconds": .stringConvertible(seconds(reactor.idleNanoseconds)),
          "sleeps": .stringConvertible(reactor.sleeps),
          "untimed_sleeps": .stringConvertible(reactor.untimedSleeps),
        ]))
    return events
  }

  /// Seconds to the millisecond.
  private static func seconds(_ nanoseconds: UInt64) -> Double {
    (Double(nanoseconds) / 1e6).rounded() / 1000
  }
}
