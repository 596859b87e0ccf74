/// Where a function's interrupts go: in the server, eventfd writes set up by
/// the vfio-user client. Held weakly by `PCIFunction`, so the owner of both
/// keeps the sink alive.
public protocol InterruptSink: AnyObject {
  /// MSI-X `vector` is enabled, unmasked and fired.
  func fireMSIX(vector: Int)
  /// INTA was asserted. vfio-user INTx is an edge eventfd that the client
  /// masks and later unmasks, so this fires on every signal.
  func fireINTx()
}
