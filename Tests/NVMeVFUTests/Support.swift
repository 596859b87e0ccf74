import NVMe
import NVMeHostDriver
import Testing
import VFIOUserClient

/// Fills `buffer` with bytes that differ per seed and position.
func fill(_ buffer: GuestBuffer, seed: UInt8) {
  for index in 0..<buffer.count {
    buffer.bytes[index] = UInt8(
      truncatingIfNeeded: index &* 7 &+ index >> 8 &+ Int(seed) &* 31 &+ 1)
  }
}

func zero(_ buffer: GuestBuffer) {
  buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0)
}

func same(_ a: GuestBuffer, _ b: GuestBuffer) -> Bool {
  a.count == b.count && a.bytes.elementsEqual(b.bytes)
}

/// Runs `body` and expects it to fail with a command status matching `status`.
func expectStatus(
  _ status: NVMeStatus, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record("expected \(status), got success", sourceLocation: sourceLocation)
  } catch let error as NVMeHostError {
    #expect(error.status?.matches(status) == true, "got \(error)", sourceLocation: sourceLocation)
  } catch {
    Issue.record("expected \(status), got \(error)", sourceLocation: sourceLocation)
  }
}
