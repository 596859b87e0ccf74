/// Interrupts: a vector that got completion entries is raised once at the end
/// of the turn, or, where Interrupt Coalescing (FID 08h) is in effect for it,
/// when THR + 1 entries have waited or TIME has passed since the first.
extension NVMeController {
  /// An entry was posted on a queue whose interrupts go to `vector`. Without
  /// coalescing (the default, and what Linux runs) this costs one bool check
  /// over marking the vector: the hot path was measured per instruction.
  @inline(__always)
  func entryPosted(_ entry: CompletionQueueEntry, vector: UInt16) {
    if session.coalescing {
      aggregate(entry, vector: vector)
    } else {
      markVector(vector)
    }
  }

  /// Raises `vector` at the end of this turn (once, however many entries).
  func markVector(_ vector: UInt16) {
    let index = Int(vector)
    guard index < session.vectorPending.count, !session.vectorPending[index] else { return }
    session.vectorPending[index] = true
    session.pendingVectors.append(vector)
  }

  /// Counts the entry against its vector's threshold. An error completion
  /// is signalled at once, as the spec recommends, and so is an entry that
  /// lands while the vector is due this turn anyway: that interrupt covers it.
  private func aggregate(_ entry: CompletionQueueEntry, vector: UInt16) {
    let index = Int(vector)
    guard index < session.aggregation.count, session.aggregation[index].coalesces,
      entry.status.isSuccess
    else {
      markVector(vector)
      return
    }
    guard !session.vectorPending[index] else { return }
    if session.aggregation[index].add(threshold: session.coalescingThreshold) {
      markVector(vector)
      return
    }
    guard !session.aggregation[index].listed else { return }
    session.aggregation[index].listed = true
    session.waitingVectors.append(vector)
    // Due for a turn now: the end of the turn stamps the deadline, so the
    // clock is read once a turn however many vectors start waiting. Outside
    // a turn (a drain on DMA unmap) this asks the reactor for one at once.
    session.timerDeadline = 0
  }

  /// End of the turn: vectors whose time has come join the marked ones, and
  /// each marked vector is raised once. Nothing waits unless `coalescing`
  /// (turning it off signals what waited), and the bool spares a turn without
  /// it the array's exclusivity check.
  func raisePendingInterrupts() {
    if session.coalescing, !session.waitingVectors.isEmpty { expireAggregations() }
    guard !session.pendingVectors.isEmpty else { return }
    for vector in session.pendingVectors {
      session.vectorPending[Int(vector)] = false
      interruptHandler?(vector)
    }
    session.pendingVectors.removeAll(keepingCapacity: true)
  }

  /// One clock read for every waiting vector: stamps the deadline of those
  /// that started waiting this turn, marks those past theirs, keeps the
  /// earliest for `nextTimerDeadline`.
  private func expireAggregations() {
    let now = fineClock()
    var earliest: UInt64?
    var kept = 0
    for position in session.waitingVectors.indices {
      let vector = session.waitingVectors[position]
      let index = Int(vector)
      var state = session.aggregation[index]
      if session.vectorPending[index] || state.entries == 0 {
        state.clear()
      } else if let deadline = state.deadline, now >= deadline {
        markVector(vector)
        state.clear()
      } else {
        let deadline = state.deadline ?? now &+ session.coalescingTime
        state.deadline = deadline
        earliest = min(earliest ?? deadline, deadline)
      }
      state.listed = state.entries > 0
      session.aggregation[index] = state
      if state.listed {
        session.waitingVectors[kept] = vector
        kept &+= 1
      }
    }
    session.waitingVectors.removeLast(session.waitingVectors.count &- kept)
    session.timerDeadline = earliest
  }

  /// Marks every vector with entries waiting, for the end of this turn: the
  /// settings changed, or the server is stopping (and no turn would reach
  /// their deadlines).
  func signalWaitingVectors() {
    for vector in session.waitingVectors { markVector(vector) }
    dropAggregations()
  }

  /// Feature 08h or 09h changed: what waited is signalled this turn (the
  /// host may have just turned coalescing off), and each vector's part is
  /// worked out again. Vector 0 never coalesces.
  func interruptCoalescingChanged() {
    signalWaitingVectors()
    let setting = InterruptCoalescing(dword: session.features.current.interruptCoalescing)
    let vectors = session.features.current.interruptVectors
    session.coalescingThreshold = setting.entries
    session.coalescingTime = setting.nanoseconds
    var any = false
    for index in session.aggregation.indices {
      let coalesces =
        setting.isInEffect
        && !vectors.isCoalescingDisabled(vector: UInt16(truncatingIfNeeded: index))
      session.aggregation[index].coalesces = coalesces
      any = any || coalesces
    }
    session.coalescing = any
  }

  private func dropAggregations() {
    for vector in session.waitingVectors {
      session.aggregation[Int(vector)].clear()
      session.aggregation[Int(vector)].listed = false
    }
    session.waitingVectors.removeAll(keepingCapacity: true)
    session.timerDeadline = nil
  }
}
