import BlockIO
import Glibc
import NVMe

/// The NVMe command path: the real controller (admin and I/O queues, PRP
/// lists, SGL segments, doorbells, registers) over fuzz-controlled guest
/// memory and memory/null backends.
///
/// Input: three config bytes (`CommandConfig`), then records, each one
/// operation followed by one controller turn (`poll()`, then the host pops
/// completions):
///
///     op % 8 = 0-2  SQE: queue selector u8, relocation flags u8, 64 bytes
///              3    guest memory: window u8, offset u32, length u8, bytes
///              4    raw doorbell: slot u16, value u32
///              5    register write: offset u16 (bit 0: 8 bytes), value u32 [u32]
///              6    extra turns: count u8
///              7    event: kind u8 (+ argument u8), see `CommandRig.event`
///
/// At the end the controller must still work: disabled, it is idle with
/// RDY and CFS clear; enabled again over a fresh admin queue, it answers
/// Identify.
enum CommandHarness {
  static func run(_ input: [UInt8]) -> FuzzReport {
    var report = FuzzReport()
    var cursor = ByteCursor(input)
    let config = CommandConfig(&cursor)
    guard let rig = CommandRig(config) else {
      report.require(false, "harness setup failed")
      return report
    }
    if !config.raw { rig.bringUp(&report) }
    while !cursor.isAtEnd {
      rig.step(&cursor, &report)
      rig.turn(&report)
    }
    rig.checkStillServes(&report)
    rig.tearDown()
    return report
  }
}
