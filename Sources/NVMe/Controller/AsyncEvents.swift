/// An asynchronous event (NVMe Base 2.0, figure 145-151): what the completion
/// of an Asynchronous Event Request reports in Dword 0.
public struct AsyncEvent: Sendable, Hashable {
  public var type: UInt8
  public var info: UInt8
  public var logPage: UInt8

  public init(type: UInt8, info: UInt8, logPage: UInt8) {
    self.type = type
    self.info = info
    self.logPage = logPage
  }

  public var dword0: UInt32 { UInt32(type & 0x7) | UInt32(info) << 8 | UInt32(logPage) << 16 }

  public enum EventType {
    public static let error: UInt8 = 0
    public static let smartHealth: UInt8 = 1
    public static let notice: UInt8 = 2
  }

  /// A doorbell write to a queue that does not exist.
  public static let invalidDoorbellRegister = AsyncEvent(
    type: EventType.error, info: 0, logPage: 0x01)
  /// A doorbell value past the queue's size, or a CQ head that overtakes the tail.
  public static let invalidDoorbellValue = AsyncEvent(type: EventType.error, info: 1, logPage: 0x01)
  public static let temperatureThreshold = AsyncEvent(
    type: EventType.smartHealth, info: 1, logPage: 0x02)
  public static let namespaceAttributeChanged = AsyncEvent(
    type: EventType.notice, info: 0, logPage: 0x04)
}

/// Outstanding Asynchronous Event Requests and the events waiting for one.
///
/// Once an event of a type is reported, further events of that type are held
/// back until the host reads the log page it named (with RAE clear), as the
/// spec requires; a repeated identical event is not queued twice.
struct AsyncEvents {
  /// CIDs of parked requests, oldest first.
  private(set) var requests: [UInt16] = []
  private(set) var queued: [AsyncEvent] = []
  private var maskedTypes: Set<UInt8> = []

  mutating func park(_ cid: UInt16) { requests.append(cid) }

  mutating func post(_ event: AsyncEvent) {
    if !queued.contains(event) { queued.append(event) }
  }

  /// Pairs a parked request with the oldest deliverable event.
  mutating func nextDelivery() -> (cid: UInt16, event: AsyncEvent)? {
    guard !requests.isEmpty,
      let index = queued.firstIndex(where: { !maskedTypes.contains($0.type) })
    else { return nil }
    let event = queued.remove(at: index)
    maskedTypes.insert(event.type)
    return (requests.removeFirst(), event)
  }

  /// The host read `logPage` without RAE: events reported against it are
  /// acknowledged and their type unmasked.
  mutating func acknowledge(logPage: UInt8) {
    switch logPage {
    case 0x01: maskedTypes.remove(AsyncEvent.EventType.error)
    case 0x02: maskedTypes.remove(AsyncEvent.EventType.smartHealth)
    case 0x04: maskedTypes.remove(AsyncEvent.EventType.notice)
    default: break
    }
  }
}
