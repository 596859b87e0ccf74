extension NVMeController {
  /// Size of the register window in BAR0 (the doorbells follow it).
  public static let registerWindow: UInt64 = 0x1000

  /// The 32-bit register at a dword-aligned offset below 0x1000.
  func registerDword(_ offset: UInt64) -> UInt32 {
    let cap = capabilities.value
    switch offset {
    case RegisterOffset.cap: return UInt32(truncatingIfNeeded: cap)
    case RegisterOffset.cap + 4: return UInt32(truncatingIfNeeded: cap >> 32)
    case RegisterOffset.vs: return ControllerIdentity.version20
    case RegisterOffset.intms, RegisterOffset.intmc: return interruptMask
    case RegisterOffset.cc: return cc.raw
    case RegisterOffset.csts: return csts.value
    case RegisterOffset.aqa: return aqa.raw
    case RegisterOffset.asq: return UInt32(truncatingIfNeeded: asq)
    case RegisterOffset.asq + 4: return UInt32(truncatingIfNeeded: asq >> 32)
    case RegisterOffset.acq: return UInt32(truncatingIfNeeded: acq)
    case RegisterOffset.acq + 4: return UInt32(truncatingIfNeeded: acq >> 32)
    default: return 0
    }
  }

  /// Reads registers (or doorbells, which read back as last written) into
  /// `buffer`, any size and alignment. Offsets past BAR0's doorbell page
  /// read as zero.
  public func readRegisters(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
    for index in 0..<buffer.count {
      let (byteOffset, overflow) = offset.addingReportingOverflow(UInt64(index))
      guard !overflow else {
        buffer[index] = 0
        continue
      }
      let dwordOffset = byteOffset & ~3
      let dword: UInt32
      if dwordOffset < Self.registerWindow {
        dword = registerDword(dwordOffset)
      } else {
        dword = doorbells.load(Int((dwordOffset &- RegisterOffset.doorbells) / 4))
      }
      buffer[index] = UInt8(truncatingIfNeeded: dword >> (8 * (byteOffset & 3)))
    }
  }

  /// Applies a register or doorbell write. Writes must be whole dwords (4 or
  /// 8 bytes, dword aligned), as the spec requires of hosts; returns false
  /// for any other shape, which the caller reports as EINVAL.
  public func writeRegisters(offset: UInt64, from data: UnsafeRawBufferPointer) -> Bool {
    guard offset & 3 == 0, data.count == 4 || data.count == 8 else { return false }
    for part in stride(from: 0, to: data.count, by: 4) {
      let value =
        UInt32(data[part]) | UInt32(data[part + 1]) << 8
        | UInt32(data[part + 2]) << 16 | UInt32(data[part + 3]) << 24
      writeDword(offset &+ UInt64(part), value)
    }
    return true
  }

  func writeDword(_ offset: UInt64, _ value: UInt32) {
    if offset >= RegisterOffset.doorbells {
      writeDoorbellSlot(Int((offset &- RegisterOffset.doorbells) / 4), value)
      return
    }
    if offset == RegisterOffset.cc, deferredConfigurationWrites != nil {
      deferredConfigurationWrites?.append(value)
      return
    }
    switch offset {
    case RegisterOffset.intms: interruptMask |= value
    case RegisterOffset.intmc: interruptMask &= ~value
    case RegisterOffset.cc: writeControllerConfiguration(value)
    case RegisterOffset.aqa: aqa = AdminQueueAttributes(raw: value & 0x0FFF_0FFF)
    case RegisterOffset.asq: asq = (asq & 0xFFFF_FFFF_0000_0000) | UInt64(value & ~0xFFF)
    case RegisterOffset.asq + 4: asq = (asq & 0xFFFF_FFFF) | UInt64(value) << 32
    case RegisterOffset.acq: acq = (acq & 0xFFFF_FFFF_0000_0000) | UInt64(value & ~0xFFF)
    case RegisterOffset.acq + 4: acq = (acq & 0xFFFF_FFFF) | UInt64(value) << 32
    default: break  // read-only or reserved: ignored (NSSR: CAP.NSSRS = 0)
    }
  }

  /// A doorbell written through REGION_WRITE instead of the mmapped page:
  /// stored into the page so `poll()` sees one source of truth. A write to
  /// the doorbell of a queue that does not exist is an error event.
  func writeDoorbellSlot(_ slot: Int, _ value: UInt32) {
    guard slot >= 0, slot < doorbells.slots else { return }
    doorbellMessages &+= 1
    let qid = slot / 2
    let exists =
      qid < session.submissionQueues.count
      && (slot & 1 == 0
        ? session.submissionQueues[qid] != nil : session.completionQueues[qid] != nil)
    guard exists else {
      if lifecycle.status.ready { raise(.invalidDoorbellRegister) }
      return
    }
    doorbells.store(slot, value)
  }

  func writeControllerConfiguration(_ value: UInt32) {
    let old = cc
    let new = ControllerConfigurationRegister(raw: value & 0x01FF_FFF1)
    cc = new
    switch ControllerLifecycle.change(from: old, to: new) {
    case .none: break
    case .disable: resetController(reason: "CC.EN cleared")
    case .enable: enable()
    case .shutDown: lifecycle.requestShutdown()
    case .enableAndShutDown:
      enable()
      lifecycle.requestShutdown()
    }
  }

  /// CC.EN 0 -> 1: validate the configuration and the admin queue, then RDY.
  ///
  /// IOSQES and IOCQES must name the only entry sizes Identify reports
  /// (SQES, CQES: 64 and 16 bytes), as Linux's own target and QEMU's NVMe
  /// model require at enable; every host sets them there.
  func enable() {
    let asqs = aqa.submissionEntries
    let acqs = aqa.completionEntries
    guard cc.commandSet == 0, cc.ams == 0,
      cc.mps >= capabilities.mpsMin, cc.mps <= capabilities.mpsMax,
      cc.iosqes == ControllerIdentity.submissionEntryExponent,
      cc.iocqes == ControllerIdentity.completionEntryExponent,
      asqs >= 2, acqs >= 2, asqs <= min(4096, capabilities.maxQueueEntries),
      acqs <= min(4096, capabilities.maxQueueEntries)
    else {
      enableFailed("invalid controller configuration (CC \(hex(cc.raw)), AQA \(hex(aqa.raw)))")
      return
    }
    let cqRing = QueueRing(baseAddress: acq, entrySize: 16, entries: acqs, writable: true)
    let sqRing = QueueRing(baseAddress: asq, entrySize: 64, entries: asqs, writable: false)
    // Whether the rings are really mapped shows on first use (a client may
    // share memory without descriptors); an unusable ring then sets CFS.
    guard memory != nil, cqRing.isAddressable, sqRing.isAddressable else {
      enableFailed("admin queues unusable (ASQ \(hex(asq)), ACQ \(hex(acq)))")
      return
    }
    doorbells.clearAll()
    let cq = CompletionQueue(id: 0, vector: 0, interruptsEnabled: true, ring: cqRing)
    let sq = SubmissionQueue(id: 0, completionQueueID: 0, ring: sqRing)
    cq.submissionQueueCount = 1
    install(cq)
    install(sq)
    lifecycle.enabled()
  }

  private func enableFailed(_ reason: String) {
    logger.warning("controller fatal status: \(reason)")
    lifecycle.enableFailed()
  }

  /// CC.SHN: finish outstanding I/O, make it durable, report SHST complete.
  /// Runs at the start of the turn after the CC write (SHST reads 01b until
  /// then).
  func shutdown() {
    drainBackends()
    flushAllBackends()
    lifecycle.shutdownFinished()
  }

  /// Controller reset (CC.EN 1 -> 0, or the transport's device reset):
  /// in-flight I/O finishes (its buffers are guest memory) but completes
  /// nowhere, then a new session replaces the queues, pending asynchronous
  /// events, shadow doorbells, interrupt state and features.
  func resetController(reason: String) {
    logger.debug("controller reset: \(reason)")
    let shutdown = lifecycle.resetBegins()
    drainBackends()
    inFlight.releaseAllContexts()
    selfTestSeesReset()
    session = newSession()
    doorbells.clearAll()
    lifecycle.resetEnds(shutdown: shutdown)
  }

  /// The transport's device reset (vfio-user DEVICE_RESET, PCI FLR): a
  /// controller reset that also clears the registers.
  public func deviceReset() {
    resetController(reason: "device reset")
    lifecycle = .initial
    cc = ControllerConfigurationRegister()
    aqa = AdminQueueAttributes()
    asq = 0
    acq = 0
    interruptMask = 0
  }

  func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
}
