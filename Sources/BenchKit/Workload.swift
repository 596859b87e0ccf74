/// Which chunk (a --bs sized, --bs aligned piece of the namespace) each
/// command touches, and whether it reads or writes. Value type, no
/// allocation per decision.
struct Workload {
  let mode: RWMode
  let readPercent: UInt64
  let chunks: UInt64
  private var random: XorShift
  private var cursor: UInt64 = 0

  init(mode: RWMode, readPercent: Int, chunks: UInt64, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
    self.mode = mode
    self.readPercent = UInt64(max(0, min(100, readPercent)))
    self.chunks = max(1, chunks)
    random = XorShift(seed: seed)
  }

  mutating func nextIsRead() -> Bool {
    switch mode {
    case .read, .randread: return true
    case .write, .randwrite: return false
    case .randrw: return random.next() % 100 < readPercent
    }
  }

  mutating func nextChunk() -> UInt64 {
    if mode.isRandom { return random.below(chunks) }
    let chunk = cursor
    cursor = cursor &+ 1 == chunks ? 0 : cursor &+ 1
    return chunk
  }
}

/// xorshift64*: fast, good enough to scatter offsets, reproducible.
struct XorShift {
  private var state: UInt64

  init(seed: UInt64) { state = seed == 0 ? 0x2545_F491_4F6C_DD1D : seed }

  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_F491_4F6C_DD1D
  }

  /// Uniform in 0 ..< bound (multiply-high: no division, negligible bias).
  mutating func below(_ bound: UInt64) -> UInt64 {
    bound.multipliedFullWidth(by: next()).high
  }
}
