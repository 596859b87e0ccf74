import BackendContract
import Logging

/// The namespaces' backends: one submit per backend per turn, reaping, draining.
extension NVMeController {
  func markBackendForSubmit(_ index: Int) {
    guard index < backendDirty.count, !backendDirty[index] else { return }
    backendDirty[index] = true
    backendsToSubmit.append(index)
  }

  func submitBackends() {
    guard !backendsToSubmit.isEmpty else { return }
    for index in backendsToSubmit {
      backendDirty[index] = false
      namespaces[index].backend.submit()
    }
    backendsToSubmit.removeAll(keepingCapacity: true)
  }

  func reapBackends() -> Int {
    var work = 0
    for ns in namespaces where ns.backend.inFlight > 0 {
      work &+= ns.backend.reap { completion in ioPartCompleted(completion) }
    }
    return work
  }

  /// Waits for every backend request to finish, handling each completion.
  /// Used before anything that would pull memory or queues from under them.
  public func drainBackends() {
    submitBackends()
    for ns in namespaces where ns.backend.inFlight > 0 {
      ns.backend.drain { completion in ioPartCompleted(completion) }
    }
  }

  /// Synchronous flush of every writable backend (shutdown).
  func flushAllBackends() {
    for ns in namespaces where !ns.isReadOnly { flushBackend(of: ns) }
  }

  /// Synchronous flush of one namespace's backend, delivering whatever else
  /// completes meanwhile.
  func flushBackend(of ns: Namespace) {
    ns.backend.enqueue(BlockRequest(operation: .flush, offset: 0, length: 0, tag: UInt64.max))
    ns.backend.drain { completion in
      if completion.tag != UInt64.max {
        ioPartCompleted(completion)
      } else if !completion.succeeded {
        logger.warning("flush of namespace \(ns.id) failed: errno \(completion.errno)")
      }
    }
  }
}
