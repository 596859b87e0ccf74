import BackendContract
import Logging

/// Namespace hot-add, removal and resize. Called on the reactor thread
/// between turns only.
///
/// In-flight requests, `backendDirty`, `backendsToSubmit` and self-test spans
/// name namespaces by index into `namespaces`. Every change first drains all
/// backends, so no index is held by anything in flight when the array shifts;
/// then the per-index state is rebuilt and self-test spans re-pointed. The
/// I/O path keeps its plain index.
extension NVMeController {
  /// The lowest NSID not in use, nil when all `maxNamespaces` are taken.
  public func freeNamespaceID() -> UInt32? {
    let limit = UInt32(clamping: max(0, settings.maxNamespaces))
    var candidate: UInt32 = 1
    for ns in namespaces {  // ascending by NSID
      guard candidate <= limit else { return nil }
      if ns.id > candidate { return candidate }
      if ns.id == candidate { candidate &+= 1 }
    }
    return candidate <= limit ? candidate : nil
  }

  /// Adds `namespace`; it serves I/O at once and the host hears of it
  /// through the Changed Namespace List and an async event.
  public func attach(_ namespace: Namespace) throws(NamespaceChangeError) {
    let nsid = namespace.id
    guard nsid != 0, nsid != 0xFFFF_FFFF, nsid <= UInt32(clamping: max(0, settings.maxNamespaces))
    else { throw .namespaceIDOutOfRange(nsid, max: settings.maxNamespaces) }
    guard namespaceIndex(nsid) == nil else { throw .namespaceIDInUse(nsid) }
    quiesceBackends()
    let position = namespaces.firstIndex { $0.id > nsid } ?? namespaces.count
    namespaces.insert(namespace, at: position)
    namespacesMoved()
    announce(nsid)
  }

  /// Removes namespace `nsid` and returns it for the caller to close. New
  /// commands for it fail at once; what was in flight completes to the guest
  /// first; a self-test reading it is aborted; written data is flushed.
  public func detach(nsid: UInt32) throws(NamespaceChangeError) -> Namespace {
    guard let index = namespaceIndex(nsid) else { throw .noSuchNamespace(nsid) }
    quiesceBackends()
    if let run = selfTest, run.spans.contains(where: { $0.namespaceID == nsid }) {
      endSelfTest(.abortedByNamespaceRemoval)
    }
    let ns = namespaces[index]
    if !ns.isReadOnly { flushBackend(of: ns) }
    namespaces.remove(at: index)
    namespacesMoved()
    announce(nsid)
    return ns
  }

  /// Changes namespace `nsid` to `bytes`, a positive multiple of its block
  /// size. Shrinking past data the guest wrote needs `force`.
  public func resize(nsid: UInt32, to bytes: UInt64, force: Bool) throws(NamespaceChangeError) {
    guard let index = namespaceIndex(nsid) else { throw .noSuchNamespace(nsid) }
    let ns = namespaces[index]
    guard bytes > 0 else { throw .zeroSize }
    guard bytes % UInt64(ns.blockSize) == 0 else {
      throw .sizeNotBlockMultiple(bytes: bytes, blockSize: ns.blockSize)
    }
    guard !ns.isReadOnly else { throw .readOnly(nsid) }
    // Nothing in flight may straddle the new end.
    quiesceBackends()
    if bytes < ns.backend.size, !force, ns.backend.holdsData(from: bytes) {
      throw .wouldDiscardData(nsid: nsid, from: bytes)
    }
    do {
      try ns.backend.resize(to: bytes)
    } catch {
      throw .backendRefused(nsid: nsid, errno: error.errno)
    }
    announce(nsid)
  }

  /// Drains until nothing is queued or in flight anywhere: a completion (a
  /// copy's read, say) may enqueue more, so one pass is not always enough.
  func quiesceBackends() {
    while !backendsToSubmit.isEmpty || namespaces.contains(where: { $0.backend.inFlight > 0 }) {
      drainBackends()
    }
  }

  /// `namespaces` changed shape with nothing in flight: rebuild what is
  /// kept per index.
  private func namespacesMoved() {
    backendDirty = Array(repeating: false, count: namespaces.count)
    backendsToSubmit.removeAll(keepingCapacity: true)
    selfTest?.remapIndexes { nsid in namespaceIndex(nsid) }
  }

  private func announce(_ nsid: UInt32) {
    changedNamespaces.note(nsid)
    raise(.namespaceAttributeChanged)
  }
}
