import CShims
import POSIX

/// Keeps a client that shrinks the file behind a DMA window from killing the
/// server: a SIGBUS inside a watched mapping gets a private zero page in
/// place of the lost one and the access completes (see
/// `cshims_dma_guard.h`). The client only hurts its own guest; the server
/// logs it and keeps serving.
public enum DMAFaultGuard {
  /// Watches `mapping` (installing the handler on first use). False when the
  /// handler cannot be installed or the process-wide table is full.
  static func watch(_ mapping: MemoryMapping) -> Bool {
    cshim_dma_guard_install() == 0 && cshim_dma_guard_watch(mapping.base, mapping.length) == 0
  }

  static func unwatch(_ mapping: MemoryMapping) {
    cshim_dma_guard_unwatch(mapping.base)
  }

  /// Faults absorbed so far in this process.
  public static var faults: UInt64 { cshim_dma_guard_faults() }

  /// Where the most recent one was (a host address in this process).
  public static var lastAddress: UInt { cshim_dma_guard_last_address() }
}
