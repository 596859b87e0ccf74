/// SMART's Controller Busy Time, kept by the reactor turn.
extension NVMeController {
  /// Controller Busy Time counts time with a command outstanding in a
  /// backend (an I/O command, in practice). The clock is read only when that
  /// changes; with a coarse clock the short intervals at low queue depth add
  /// up to the right total on average (a tick lands inside an interval with
  /// probability length / tick).
  func trackBusyTime() {
    let busy = inFlight.active > 0
    guard busy != (busySince != nil) else { return }
    let now = clock()
    if let since = busySince {
      busyMilliseconds &+= now &- since
      busySince = nil
    } else {
      busySince = now
    }
  }

  /// Busy milliseconds so far, the open interval included.
  var busyTimeMilliseconds: UInt64 {
    busyMilliseconds &+ (busySince.map { clock() &- $0 } ?? 0)
  }
}
