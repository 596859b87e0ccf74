import POSIX

/// The client's interrupt wiring: per IRQ type and vector, the eventfds it gave us and
/// the mask state, with VFIO_USER_DEVICE_SET_IRQS semantics. Owned by one thread.
public final class IRQTable {
  public struct Vector: Sendable {
    public var trigger: FileDescriptor?
    public var maskFD: FileDescriptor?
    public var unmaskFD: FileDescriptor?
    public var masked = false
    /// Fired while masked; delivered on unmask.
    public var pending = false
  }

  public let infos: [IRQInfo]
  private var vectors: [[Vector]]
  /// Signals the client's eventfds; replaceable so tests can count.
  public var signal: (FileDescriptor) -> Void = { EventFD.signal($0) }

  public init(infos: [IRQInfo]) {
    self.infos = infos
    self.vectors = infos.map { [Vector](repeating: Vector(), count: Int($0.count)) }
  }

  deinit { releaseAll() }

  public func vector(index: Int, vector: Int) -> Vector? {
    guard index >= 0, index < vectors.count, vector >= 0, vector < vectors[index].count else {
      return nil
    }
    return vectors[index][vector]
  }

  /// The trigger eventfd of a vector, or nil when none is wired.
  @inline(__always)
  public func triggerFD(index: Int, vector: Int) -> FileDescriptor? {
    guard index >= 0, index < vectors.count, vector >= 0, vector < vectors[index].count else {
      return nil
    }
    return vectors[index][vector].trigger
  }

  /// The device raises an interrupt. Masked vectors remember it as pending. Returns true
  /// when an eventfd was signalled.
  @discardableResult
  public func fire(index: Int, vector: Int) -> Bool {
    guard index >= 0, index < vectors.count, vector >= 0, vector < vectors[index].count else {
      return false
    }
    if vectors[index][vector].masked {
      vectors[index][vector].pending = true
      return false
    }
    guard let fd = vectors[index][vector].trigger else { return false }
    signal(fd)
    if infos[index].flags & IRQInfo.flagAutomasked != 0 {
      vectors[index][vector].masked = true
    }
    return true
  }

  /// Applies one SET_IRQS. `fds` are the descriptors that came with it: on success the
  /// table keeps those it stores; on failure nothing is changed and it keeps none.
  public func apply(_ set: IRQSet, fds: [FileDescriptor]) throws(Errno) {
    guard set.argsz >= UInt32(IRQSet.size), let (kind, action) = set.decodedFlags,
      set.index < UInt32(vectors.count)
    else { throw .invalidArgument }
    let type = Int(set.index)
    let info = infos[type]
    let count = Int(set.count)

    if count == 0 {
      // The spec's one special case: count and start 0 with DATA_NONE disables all.
      guard kind == .none, action == .trigger, set.start == 0, fds.isEmpty else {
        throw .invalidArgument
      }
      release(type: type)
      return
    }
    let (end, overflow) = set.start.addingReportingOverflow(set.count)
    guard !overflow, Int(end) <= vectors[type].count else { throw .invalidArgument }
    let range = Int(set.start)..<Int(end)
    if action != .trigger, info.flags & IRQInfo.flagMaskable == 0 { throw .invalidArgument }

    switch kind {
    case .none:
      guard fds.isEmpty else { throw .invalidArgument }
      for v in range { perform(action, type: type, vector: v) }
    case .bool:
      guard fds.isEmpty, set.data.count >= count else { throw .invalidArgument }
      for (i, v) in range.enumerated() where set.data[i] != 0 {
        perform(action, type: type, vector: v)
      }
    case .eventFD:
      guard fds.isEmpty || fds.count == count else { throw .invalidArgument }
      for (i, v) in range.enumerated() {
        assign(fds.isEmpty ? nil : fds[i], action: action, type: type, vector: v)
      }
    }
  }

  /// Closes every descriptor and clears all state (client gone, or device reset of wiring).
  public func releaseAll() {
    for type in vectors.indices { release(type: type) }
  }

  private func release(type: Int) {
    for v in vectors[type].indices {
      let old = vectors[type][v]
      old.trigger?.close()
      old.maskFD?.close()
      old.unmaskFD?.close()
      vectors[type][v] = Vector()
    }
  }

  private func perform(_ action: IRQSet.Action, type: Int, vector v: Int) {
    switch action {
    case .trigger:
      fire(index: type, vector: v)
    case .mask:
      vectors[type][v].masked = true
      if let fd = vectors[type][v].maskFD { signal(fd) }
    case .unmask:
      vectors[type][v].masked = false
      if let fd = vectors[type][v].unmaskFD { signal(fd) }
      if vectors[type][v].pending {
        vectors[type][v].pending = false
        fire(index: type, vector: v)
      }
    }
  }

  /// Replaced descriptors are closed at once, not at their last release: a vector the
  /// client rewired must stop firing the old eventfd even if someone still holds it.
  private func assign(_ fd: FileDescriptor?, action: IRQSet.Action, type: Int, vector v: Int) {
    switch action {
    case .trigger:
      vectors[type][v].trigger?.close()
      // Any descriptor may come as a trigger: a pipe nobody drains must not
      // block the reactor once it is full (a lost interrupt is the client's).
      try? fd?.setNonBlocking()
      vectors[type][v].trigger = fd
    case .mask:
      vectors[type][v].maskFD?.close()
      vectors[type][v].maskFD = fd
    case .unmask:
      vectors[type][v].unmaskFD?.close()
      vectors[type][v].unmaskFD = fd
    }
  }
}
