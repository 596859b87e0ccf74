import NVMe

/// Guest memory made of separate windows, like the real DMA space: an access
/// must lie wholly inside one window, so tests and fuzzers can aim at window
/// edges and at the gaps between windows.
public final class WindowedGuestMemory: GuestMemory {
  public struct Unmapped: Error { public init() {} }

  public struct Window {
    public let base: UInt64
    public let storage: UnsafeMutableRawBufferPointer
    public let writable: Bool
    /// False while "unmapped" (a test or the fuzzer took the window away).
    public var present = true

    public var size: Int { storage.count }
  }

  public private(set) var windows: [Window] = []
  /// Copies through `read` so far.
  public private(set) var reads = 0
  /// False: behave like memory shared without descriptors (no host pointers,
  /// only copies), which sends the controller down its bounce paths.
  public var allowsTranslation = true
  /// Runs once inside a later copy (`read`/`write`), as the server's handling
  /// of a client message does while a DMA message exchange waits for its
  /// reply: the controller is re-entered mid-access.
  public var reentry: (() -> Void)?
  /// Copies to let pass before `reentry` runs.
  public var reentrySkip = 0
  private let recycle: (([UnsafeMutableRawBufferPointer]) -> Void)?

  /// Windows as (base, size, writable), zero-filled. `buffers`, if given, are
  /// the windows' storage (one per window, at least as large), and `recycle`
  /// gets them back at deinit instead of their being deallocated.
  public init(
    windows layout: [(base: UInt64, size: Int, writable: Bool)],
    buffers: [UnsafeMutableRawBufferPointer]? = nil,
    recycle: (([UnsafeMutableRawBufferPointer]) -> Void)? = nil
  ) {
    self.recycle = recycle
    for (index, window) in layout.enumerated() {
      let storage: UnsafeMutableRawBufferPointer
      if let buffers, buffers.indices.contains(index), buffers[index].count >= window.size {
        storage = UnsafeMutableRawBufferPointer(rebasing: buffers[index][0..<window.size])
      } else {
        storage = .allocate(byteCount: window.size, alignment: 4096)
      }
      storage.initializeMemory(as: UInt8.self, repeating: 0)
      windows.append(Window(base: window.base, storage: storage, writable: window.writable))
    }
  }

  /// Windows as (base, size); writable unless their base is in `readOnly`.
  public convenience init(_ layout: [(base: UInt64, size: Int)], readOnly: Set<UInt64> = []) {
    self.init(windows: layout.map { ($0.base, $0.size, !readOnly.contains($0.base)) })
  }

  deinit {
    if let recycle {
      recycle(windows.map(\.storage))
    } else {
      for window in windows { window.storage.deallocate() }
    }
  }

  public func setPresent(_ index: Int, _ present: Bool) {
    guard windows.indices.contains(index) else { return }
    windows[index].present = present
  }

  public func translate(_ address: UInt64, length: Int, write: Bool)
    -> UnsafeMutableRawBufferPointer?
  {
    guard allowsTranslation else { return nil }
    return view(address, length: length, write: write)
  }

  public func read(_ address: UInt64, into: UnsafeMutableRawBufferPointer) throws {
    reenter()
    reads += 1
    guard let source = view(address, length: into.count, write: false) else { throw Unmapped() }
    if into.count > 0 { into.copyMemory(from: UnsafeRawBufferPointer(source)) }
  }

  public func write(_ address: UInt64, from: UnsafeRawBufferPointer) throws {
    reenter()
    guard let target = view(address, length: from.count, write: true) else { throw Unmapped() }
    if from.count > 0 { target.copyMemory(from: from) }
  }

  /// The host's own view (what its CPU can touch), ignoring permissions.
  public func hostView(_ address: UInt64, length: Int) -> UnsafeMutableRawBufferPointer? {
    view(address, length: length, write: false)
  }

  private func reenter() {
    guard let action = reentry else { return }
    guard reentrySkip == 0 else {
      reentrySkip -= 1
      return
    }
    reentry = nil
    action()
  }

  private func view(_ address: UInt64, length: Int, write: Bool) -> UnsafeMutableRawBufferPointer? {
    guard length >= 0 else { return nil }
    for window in windows where window.present && address >= window.base {
      let offset = address - window.base
      guard offset <= UInt64(window.size), UInt64(length) <= UInt64(window.size) - offset else {
        continue
      }
      if write && !window.writable { return nil }
      let start = Int(offset)
      return UnsafeMutableRawBufferPointer(rebasing: window.storage[start..<(start + length)])
    }
    return nil
  }
}
