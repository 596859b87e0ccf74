/// The guest- and device-facing view of a function's MSI-X state. A thin
/// handle onto the function (it stores nothing itself), so table writes can
/// fire vectors they unmask.
public struct MSIX {
  let function: PCIFunction

  public var vectors: Int { function.msixTable?.vectors ?? 0 }
  /// Message Control.MSI-X Enable.
  public var isEnabled: Bool { function.msixEnabled }
  /// Message Control.Function Mask: every vector held back.
  public var isFunctionMasked: Bool { function.msixFunctionMasked }

  /// The vector's own mask bit; true for vectors outside the table.
  public func isMasked(vector: Int) -> Bool {
    function.msixTable?.isMasked(vector) ?? true
  }

  public func isPending(vector: Int) -> Bool {
    function.msixTable?.isPending(vector) ?? false
  }

  public func entry(vector: Int) -> MSIXEntry? {
    function.msixTable?.entry(vector)
  }

  /// Guest read of the table; `offset` is relative to the table start.
  /// Only naturally aligned 4- or 8-byte reads inside the table succeed.
  public func tableRead(offset: Int, count: Int) -> [UInt8]? {
    function.msixTable?.read(offset: offset, count: count)
  }

  /// Guest write of the table, same rules as `tableRead`. Clearing a mask
  /// bit fires that vector if it was pending and MSI-X is open.
  public func tableWrite(offset: Int, bytes: [UInt8]) -> Bool {
    guard let outcome = function.msixTable?.write(offset: offset, bytes: bytes) else {
      return false
    }
    switch outcome {
    case .refused: return false
    case .applied(let unmasked):
      if let unmasked { function.firePendingVector(unmasked) }
      return true
    }
  }

  /// Guest read of the Pending Bit Array; `offset` is relative to its start.
  public func pbaRead(offset: Int, count: Int) -> [UInt8]? {
    function.msixTable?.readPBA(offset: offset, count: count)
  }

  /// Guest write of the PBA: pending bits are read-only, so a valid write is
  /// accepted and discarded. False when the access itself is invalid.
  public func pbaWrite(offset: Int, bytes: [UInt8]) -> Bool {
    function.msixTable?.acceptsPBAWrite(offset: offset, count: bytes.count) ?? false
  }

  /// Sets a vector's mask bit from outside the guest's table writes (for
  /// example a vfio-user SET_IRQS MASK/UNMASK). Unmasking fires a pending
  /// vector, exactly like a table write. Out-of-range vectors are ignored.
  public func setMasked(vector: Int, _ masked: Bool) {
    guard function.msixTable?.setMasked(vector, masked) == true else { return }
    function.firePendingVector(vector)
  }
}

extension PCIFunction {
  /// MSI-X state and table access; nil when the function has no MSI-X.
  public var msix: MSIX? {
    msixTable == nil ? nil : MSIX(function: self)
  }
}
