/// Told when the guest resets the function through config space: Initiate
/// FLR in PCIe Device Control, or D3hot -> D0 without No_Soft_Reset.
public protocol FunctionResetSink: AnyObject {
  /// Called before the function's own state (config space, MSI-X table and
  /// PBA) returns to its defaults, from inside the config write. When it
  /// returns, whatever sits behind the BARs must be reset and quiescent: no
  /// DMA and no interrupt from anything started before.
  func functionWillReset()
}
