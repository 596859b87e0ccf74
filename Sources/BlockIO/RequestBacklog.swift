import BackendContract

/// Requests that found every slot of a backend taken, oldest first. While any
/// wait, newcomers wait behind them, so requests start in arrival order.
struct RequestBacklog {
  private var requests: [BlockRequest] = []
  private var head = 0

  init(capacity: Int) { requests.reserveCapacity(capacity) }

  var count: Int { requests.count &- head }
  var isEmpty: Bool { head == requests.count }

  mutating func append(_ request: BlockRequest) { requests.append(request) }

  /// Hands waiting requests to `start`, oldest first, while `hasRoom()`.
  mutating func start(while hasRoom: () -> Bool, _ start: (BlockRequest) -> Void) {
    while head < requests.count && hasRoom() {
      let request = requests[head]
      head &+= 1
      start(request)
    }
    if head == requests.count && head > 0 {
      requests.removeAll(keepingCapacity: true)
      head = 0
    }
  }
}
