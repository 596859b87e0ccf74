import POSIX
import VFIOUser

/// MSI-X vectors as eventfds, handed to the server with SET_IRQS the way a
/// VMM wires them: the server's "interrupt" is a write to the vector's eventfd.
public final class InterruptVectors {
  /// VFIO_PCI_MSIX_IRQ_INDEX.
  public static let msixIndex: UInt32 = 2

  /// Our copies of the eventfds, by vector (the server holds its own).
  public let fds: [FileDescriptor]
  /// Signals seen per vector (eventfd reads that found the counter set).
  public private(set) var signals: [UInt64]
  /// Interrupts the server raised per vector, as far as consumed: the sum of
  /// the counter values read (one per eventfd write, however many a read
  /// found), which is what a VMM's irqfd would have injected.
  public private(set) var interrupts: [UInt64]
  /// Reused by `wait`, which a host in interrupt mode calls per completion.
  private var pollSet = PollSet(capacity: 2)

  /// Creates `count` eventfds and wires them as MSI-X vectors 0..<count
  /// (the client must have negotiated: the descriptor limit matters).
  public init(client: VFIOUserClient, count: Int) throws(Errno) {
    guard count > 0 else { throw .invalidArgument }
    var fds: [FileDescriptor] = []
    do {
      for _ in 0..<count { fds.append(try EventFD.create(nonBlocking: true)) }
      // A message carries at most the negotiated number of descriptors:
      // wire them in runs of that many, as QEMU does.
      let perMessage = max(1, Int(client.server.maxMessageFDs))
      for start in stride(from: 0, to: count, by: perMessage) {
        let run = Array(fds[start..<min(count, start + perMessage)])
        try client.setIRQs(
          IRQSet(
            data: .eventFD, action: .trigger, index: Self.msixIndex, start: UInt32(start),
            count: UInt32(run.count)),
          fds: run)
      }
    } catch {
      for fd in fds { fd.close() }
      throw error
    }
    self.fds = fds
    signals = [UInt64](repeating: 0, count: count)
    interrupts = signals
  }

  deinit { close() }

  /// Clears vector `vector`; true when it had been signalled.
  @discardableResult
  public func consume(_ vector: Int) -> Bool {
    guard vector >= 0, vector < fds.count, let count = EventFD.drain(fds[vector]) else {
      return false
    }
    signals[vector] &+= 1
    interrupts[vector] &+= count
    return true
  }

  public enum Wake {
    case vector
    case socket
    case timeout
  }

  /// Waits until `vector` is signalled, or `socket` (when given) is readable,
  /// for at most `timeoutMilliseconds`. Does not clear the vector.
  public func wait(_ vector: Int, socket: FileDescriptor? = nil, timeoutMilliseconds: Int32)
    -> Wake
  {
    guard vector >= 0, vector < fds.count, fds[vector].rawValue >= 0 else { return .timeout }
    pollSet.removeAll()
    let vectorIndex = pollSet.append(fds[vector])
    let socketIndex = socket.map { pollSet.append($0) }
    let timeout = PollTimeout.milliseconds(Int(timeoutMilliseconds))
    guard let ready = try? pollSet.wait(timeout: timeout), ready > 0 else { return .timeout }
    if !pollSet.ready(at: vectorIndex).isEmpty { return .vector }
    guard let socketIndex, !pollSet.ready(at: socketIndex).isEmpty else { return .timeout }
    return .socket
  }

  /// Closes our copies (the server's are its own business).
  public func close() {
    for fd in fds { fd.close() }
  }
}
