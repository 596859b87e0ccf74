import Glibc
import NVMe
import NVMeVFU
import TestSupport
import Testing

/// An adaptive reactor spins after work only where spinning can find the
/// next completion sooner: with requests in flight on a backend across the
/// network (RBD) and nothing else to do, it sleeps at once, leaving the CPU
/// to the client library's threads.
extension NVMeVFUTests {
  /// A spin window far longer than the test, so any sleep seen is the
  /// remote rule's and not the window running out.
  static let endlessSpin: IdlePolicy = {
    var policy = IdlePolicy()
    policy.spinNanoseconds = 60_000_000_000
    return policy
  }()

  /// Whether the reactor thread sits in ppoll (x86_64's syscall 271); nil
  /// where the syscall numbers differ.
  static func reactorInPpoll(_ server: InProcessServer) -> Bool? {
    #if arch(x86_64)
      return reactorSyscall(server).first == "271"
    #else
      return nil
    #endif
  }

  @Test(arguments: [false, true])
  func aReactorSleepsWhileOnlyRemoteRequestsAreInFlight(local: Bool) throws {
    let held = try #require(TestBackend(size: 1 << 20, gated: true, spinsForCompletions: local))
    let server = try InProcessServer(policy: Self.endlessSpin) { [held] }
    defer { server.shutdown() }
    guard Self.reactorInPpoll(server) != nil else { return }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let buffer = try host.allocate(4096)
    try queue.submit(.read(lba: 0, blocks: 8, buffer: buffer))
    #expect(ProcessProbe.eventually { held.snapshot.arrived == 1 })
    // Sampled, not timed: a thread that is runnable but starved by other
    // tests reads as running, which no count below depends on much. The
    // test backend has no eventfd, so the remote case sleeps in timed looks.
    var inPpoll = 0
    for _ in 0..<40 {
      if Self.reactorInPpoll(server) == true { inPpoll += 1 }
      usleep(5_000)
    }
    if local {
      // A local store's completion is microseconds away: the reactor keeps
      // spinning (here for the whole window), hardly ever in ppoll.
      #expect(inPpoll <= 8, "spinning for a local store: \(inPpoll) of 40 samples in ppoll")
    } else {
      #expect(inPpoll >= 20, "asleep for a remote store: \(inPpoll) of 40 samples in ppoll")
    }
    // Either way the read completes once the store lets it go (all of it:
    // the shutdown's drain would otherwise wait out its patience).
    held.releaseAll()
    try expectSuccess(queue)
  }
}
