/// The interrupt-relevant control bits, captured before a config write so
/// the write's effects can be found by comparison.
struct InterruptControl {
  var msixEnabled: Bool
  var msixFunctionMasked: Bool
  var intxDisabled: Bool

  init(of function: PCIFunction) {
    msixEnabled = function.msixEnabled
    msixFunctionMasked = function.msixFunctionMasked
    intxDisabled = function.intxDisabled
  }

  /// MSI-X messages can leave the function (per-vector masks aside).
  var msixOpen: Bool { msixEnabled && !msixFunctionMasked }
}

extension PCIFunction {
  var msixControl: UInt16 {
    guard let offset = layout.msix else { return 0 }
    return MSIXCapability.control(in: config, capability: offset)
  }
  var msixEnabled: Bool { msixControl & MSIXCapability.enableBit != 0 }
  var msixFunctionMasked: Bool { msixControl & MSIXCapability.functionMaskBit != 0 }

  /// Status.InterruptStatus: INTA is asserted.
  public var intxAsserted: Bool { status.contains(.interruptStatus) }

  /// Raises interrupt `vector`.
  ///
  /// With MSI-X enabled, a masked vector (or a masked function) only gets its
  /// pending bit set; it fires when unmasked. With MSI-X disabled the
  /// function falls back to INTA: Status.InterruptStatus is set (the spec
  /// sets it regardless of INTx Disable) and the sink fires unless INTx
  /// Disable is set. Vectors outside the table (or other than 0 without
  /// MSI-X) are ignored.
  public func signal(vector: Int) {
    guard vector >= 0, vector < (msixDescription?.vectors ?? 1) else { return }
    if msixEnabled, msixTable != nil {
      if msixFunctionMasked || msixTable?.isMasked(vector) ?? true {
        // In place: a local copy would duplicate the table on every signal.
        msixTable?.setPending(vector, true)
      } else {
        interruptSink?.fireMSIX(vector: vector)
      }
      return
    }
    setStatus(.interruptStatus, true)
    if !intxDisabled { interruptSink?.fireINTx() }
  }

  /// Drops INTA (the device has no more interrupt work outstanding).
  public func deassertINTx() {
    setStatus(.interruptStatus, false)
  }

  /// Applies what a config write did to interrupt delivery.
  func interruptControlChanged(from before: InterruptControl) {
    let now = InterruptControl(of: self)
    if now.msixEnabled && !before.msixEnabled {
      // A function with MSI-X enabled must not use INTx.
      deassertINTx()
    }
    if now.msixOpen && !before.msixOpen {
      firePendingUnmasked()
    }
    if !now.msixEnabled && before.intxDisabled && !now.intxDisabled && intxAsserted {
      // The interrupt was held back by INTx Disable; it reaches the pin now.
      interruptSink?.fireINTx()
    }
  }

  /// Fires (once) and clears every pending vector that can now be delivered.
  /// State is updated before each call out, so a sink that re-enters the
  /// function sees consistent bits.
  func firePendingUnmasked() {
    guard msixEnabled, !msixFunctionMasked else { return }
    for vector in msixTable?.pendingVectors ?? [] {
      firePendingVector(vector)
    }
  }

  /// Fires `vector` if it is pending and deliverable right now.
  func firePendingVector(_ vector: Int) {
    // No local copy of the table: mutating it below must not copy it.
    guard msixEnabled, !msixFunctionMasked, msixTable?.isPending(vector) == true,
      msixTable?.isMasked(vector) == false
    else { return }
    msixTable?.setPending(vector, false)
    interruptSink?.fireMSIX(vector: vector)
  }
}
