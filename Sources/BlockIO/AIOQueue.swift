import CLibAIO
import Glibc
import POSIX

/// `KernelQueue` over Linux native aio: iocbs prepared in place, one
/// io_submit per turn, io_getevents without waiting; every iocb completes onto
/// the backend's eventfd.
final class AIOQueue: KernelQueue {
  private let fd: Int32
  private let eventFD: Int32
  private let capacity: Int
  private var context: io_context_t?
  /// Contiguous, so a completion's iocb pointer maps back to its slot.
  let iocbs: UnsafeMutablePointer<iocb>
  /// Prepared iocbs waiting for io_submit, oldest first.
  let queued: SlotRing
  private let submitList: UnsafeMutablePointer<UnsafeMutablePointer<iocb>?>
  private let events: UnsafeMutablePointer<io_event>
  private var zeroTimeout = timespec()

  init(capacity: Int, fd: Int32, eventFD: Int32) throws(Errno) {
    var context: io_context_t?
    let rc = io_setup(Int32(capacity), &context)
    guard rc == 0 else { throw Errno(0 &- rc) }
    self.context = context
    self.fd = fd
    self.eventFD = eventFD
    self.capacity = capacity
    iocbs = .allocate(capacity: capacity)
    iocbs.initialize(repeating: iocb(), count: capacity)
    queued = SlotRing(capacity: capacity)
    submitList = .allocate(capacity: capacity)
    submitList.initialize(repeating: nil, count: capacity)
    events = .allocate(capacity: capacity)
    events.initialize(repeating: io_event(), count: capacity)
  }

  deinit {
    close()
    iocbs.deallocate()
    submitList.deallocate()
    events.deallocate()
  }

  func close() {
    if let context { io_destroy(context) }
    context = nil
  }

  /// The iocb of slot `index` (tests sabotage it to provoke refusals).
  func control(_ index: Int32) -> UnsafeMutablePointer<iocb> { iocbs + Int(index) }

  func prepare(_ index: Int32, _ request: KernelRequest) {
    let control = self.control(index)
    let offset = request.offset
    switch request.kind {
    case .readv, .writev:
      let vectors = request.address?.assumingMemoryBound(to: iovec.self)
      let count = Int32(truncatingIfNeeded: request.length)
      if request.kind == .writev {
        io_prep_pwritev(control, fd, vectors, count, offset)
      } else {
        io_prep_preadv(control, fd, vectors, count, offset)
      }
    case .read: io_prep_pread(control, fd, request.address, request.length, offset)
    case .write: io_prep_pwrite(control, fd, request.address, request.length, offset)
    case .dataSync: io_prep_fdsync(control, fd)
    }
    control.pointee.aio_rw_flags = request.rwFlags
    io_set_eventfd(control, eventFD)
    queued.push(index)
  }

  /// One io_submit for everything queued (more only after a partial
  /// submission or a refused iocb).
  func submit(_ refused: (Int32, Int32) -> Void) -> SubmitOutcome {
    var outcome = SubmitOutcome()
    while !queued.isEmpty {
      let count = queued.count
      for position in 0..<count { submitList[position] = control(queued.peek(position)) }
      let rc = Int(io_submit(context, count, submitList))
      outcome.calls &+= 1
      if rc > 0 {
        let taken = min(rc, count)
        queued.dropFirst(taken)
        outcome.taken &+= taken
        continue  // the rest, if any, get their own verdict
      }
      if rc == 0 || rc == -Int(EAGAIN) {
        outcome.stalled = true
        return outcome
      }
      // The first iocb was refused; the ones behind it were not looked at.
      guard let index = queued.pop() else { break }
      refused(index, kernelErrno(rc))
    }
    return outcome
  }

  func reap(_ body: (Int32, Int) -> Void) -> Int {
    let got = Int(io_getevents(context, 0, capacity, events, &zeroTimeout))
    guard got > 0 else { return 0 }
    for position in 0..<got {
      let event = events[position]
      guard let control = event.obj else { continue }
      let distance = iocbs.distance(to: control)
      guard distance >= 0 && distance < capacity else { continue }
      body(Int32(distance), Int(bitPattern: event.res))
    }
    return got
  }

  func abandonQueued(_ body: (Int32) -> Void) {
    while let index = queued.pop() { body(index) }
  }
}
