import Testing

@testable import NVMe

/// The lifecycle state machine on its own: CC decoding, and what CSTS reads
/// and whether queues are served after each transition.
@Suite struct ControllerLifecycleStateTests {
  static func cc(enabled: Bool, shutdown: UInt32 = 0) -> ControllerConfigurationRegister {
    ControllerConfigurationRegister(raw: (enabled ? 1 : 0) | shutdown << 14)
  }

  static func csts(_ state: ControllerLifecycle) -> (rdy: Bool, cfs: Bool, shst: UInt8) {
    let status = state.status
    return (status.ready, status.fatal, status.shutdownStatus)
  }

  @Test("A CC write decodes to disable, enable, shutdown, both or nothing")
  func configurationChanges() {
    typealias Change = ControllerLifecycle.ConfigurationChange
    let cases:
      [(old: ControllerConfigurationRegister, new: ControllerConfigurationRegister, Change)] = [
        (Self.cc(enabled: false), Self.cc(enabled: true), .enable),
        (Self.cc(enabled: false), Self.cc(enabled: true, shutdown: 1), .enableAndShutDown),
        (Self.cc(enabled: true), Self.cc(enabled: false), .disable),
        // Clearing EN is a reset whatever SHN says.
        (Self.cc(enabled: true), Self.cc(enabled: false, shutdown: 1), .disable),
        (Self.cc(enabled: true), Self.cc(enabled: true, shutdown: 1), .shutDown),
        (Self.cc(enabled: true), Self.cc(enabled: true, shutdown: 2), .shutDown),
        // Only a change from 00b counts: 01b -> 10b is no new request.
        (Self.cc(enabled: true, shutdown: 1), Self.cc(enabled: true, shutdown: 2), .none),
        (Self.cc(enabled: true, shutdown: 1), Self.cc(enabled: true), .none),
        // SHN without EN asks nothing of a disabled controller.
        (Self.cc(enabled: false), Self.cc(enabled: false, shutdown: 1), .none),
        (Self.cc(enabled: true), Self.cc(enabled: true), .none),
      ]
    for (old, new, expected) in cases {
      #expect(
        ControllerLifecycle.change(from: old, to: new) == expected, "\(old.raw) -> \(new.raw)")
    }
  }

  @Test("Enable sets RDY and serves; an enable that fails sets CFS without RDY")
  func enable() {
    var state = ControllerLifecycle.initial
    #expect(Self.csts(state) == (false, false, 0))
    #expect(!state.serves)
    state.enabled()
    #expect(state == .ready)
    #expect(Self.csts(state) == (true, false, 0))
    #expect(state.serves && state.postsCompletions)

    var failed = ControllerLifecycle.initial
    failed.enableFailed()
    #expect(Self.csts(failed) == (false, true, 0))
    #expect(!failed.serves && failed.isFatal)
    let reportedAgain = failed.fail()  // already fatal: not reported twice
    #expect(!reportedAgain)
  }

  @Test("A failure sets CFS once, keeps RDY, and stops serving")
  func failure() {
    var state = ControllerLifecycle.ready
    let newlyFailed = state.fail()
    #expect(newlyFailed)
    #expect(Self.csts(state) == (true, true, 0))
    #expect(!state.serves)
    let failedAgain = state.fail()
    #expect(!failedAgain)
    #expect(state.isFatal)
  }

  @Test("A failure while disabled or resetting is ignored: CFS would stick")
  func failureAfterAReset() {
    var disabled = ControllerLifecycle.disabled(shutdown: .complete)
    let disabledFailed = disabled.fail()
    #expect(!disabledFailed)
    #expect(disabled == .disabled(shutdown: .complete))
    var resetting = ControllerLifecycle.resetting
    let resettingFailed = resetting.fail()
    #expect(!resettingFailed)
    #expect(resetting == .resetting)
  }

  @Test("Shutdown: SHST 01b while due, 10b once finished, RDY and serving throughout")
  func shutdown() {
    var state = ControllerLifecycle.ready
    #expect(!state.shutdownDue)
    state.requestShutdown()
    #expect(state == .shuttingDown)
    #expect(Self.csts(state) == (true, false, 1))
    #expect(state.shutdownDue && state.serves)
    state.requestShutdown()  // SHN written again before the turn: still one shutdown
    #expect(state == .shuttingDown)
    state.shutdownFinished()
    #expect(Self.csts(state) == (true, false, 2))
    #expect(!state.shutdownDue && state.serves)
    // The host may clear SHN and ask again.
    state.requestShutdown()
    #expect(state.shutdownDue)
  }

  @Test("A failed controller still finishes a shutdown, and keeps CFS")
  func shutdownOfAFailedController() {
    var state = ControllerLifecycle.shuttingDown
    let newlyFailed = state.fail()
    #expect(newlyFailed)
    #expect(Self.csts(state) == (true, true, 1))
    #expect(state.shutdownDue)
    state.shutdownFinished()
    #expect(Self.csts(state) == (true, true, 2))

    var failedFirst = ControllerLifecycle.fatal(ready: true, shutdown: .normal)
    failedFirst.requestShutdown()
    #expect(failedFirst.shutdownDue)
    #expect(Self.csts(failedFirst) == (true, true, 1))
  }

  @Test("A reset stops completions, clears RDY and CFS, and keeps only a finished shutdown")
  func reset() {
    var state = ControllerLifecycle.shutDown
    let kept = state.resetBegins()
    #expect(kept == .complete)
    #expect(!state.postsCompletions && !state.serves)
    #expect(Self.csts(state) == (false, false, 0))
    state.resetEnds(shutdown: kept)
    #expect(Self.csts(state) == (false, false, 2))
    state.enabled()  // the next enable clears SHST
    #expect(Self.csts(state) == (true, false, 0))

    var failed = ControllerLifecycle.fatal(ready: false, shutdown: .normal)
    failed.resetEnds(shutdown: failed.resetBegins())
    #expect(failed == .initial)
  }

  @Test("A reset during a shutdown wins: finishing afterwards changes nothing")
  func resetDuringShutdown() {
    var state = ControllerLifecycle.shuttingDown
    let kept = state.resetBegins()
    #expect(kept == .normal)
    state.shutdownFinished()  // the shutdown's drain returns after the reset
    #expect(state == .resetting)
    state.resetEnds(shutdown: kept)
    state.shutdownFinished()
    #expect(state == .initial)
    state.requestShutdown()  // no SHN without EN
    #expect(state == .initial)
  }

  @Test("Enable only leaves the disabled state")
  func enableOnlyFromDisabled() {
    var resetting = ControllerLifecycle.resetting
    resetting.enabled()
    #expect(resetting == .resetting)
    var failed = ControllerLifecycle.fatal(ready: true, shutdown: .normal)
    failed.enabled()
    failed.enableFailed()
    #expect(failed == .fatal(ready: true, shutdown: .normal))
  }
}
