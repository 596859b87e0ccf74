import BlockIO
import Glibc
import NVMe
import TestSupport
import Testing
import VFIOUserClient

extension NVMeVFUTests.Faults {
  /// Backend requests failed on purpose (an in-process server whose two
  /// namespaces fail chosen requests; runs anywhere, root or not), in one
  /// batch of 20 commands on one queue: only the commands whose requests
  /// failed fail, each with its status (EIO on a read: Unrecovered Read
  /// Error; on a write or Flush: Write Fault; ENOSPC: Capacity Exceeded, no
  /// media error); a Flush of all namespaces fails once if one of them does;
  /// the Error Information log names each failure's LBA and namespace. When
  /// the store recovers, everything written before the faults reads back
  /// unchanged (a failed write changed nothing).
  @Test func injectedBackendErrorsFailOnlyTheirCommands() throws {
    let rules = [FaultRules(), FaultRules()]
    let server = try InProcessServer {
      rules.compactMap { rule in TestBackend(size: 1 << 20, fails: { rule.errno(for: $0) }) }
    }
    defer { server.shutdown() }
    let host = try server.host()
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 32))
    let chunks = try (0..<16).map { _ in try host.allocate(8192) }
    let logBuffer = try host.allocate(4096)
    for (index, buffer) in chunks.enumerated() {
      fillStamped(buffer, lba: UInt64(index * 16), stamp: 7)
      try host.execute(.write(lba: UInt64(index * 16), blocks: 16, buffer: buffer), on: queue)
    }
    try host.execute(.flush(namespace: 0xFFFF_FFFF), on: queue)

    func bytes(_ lbas: Range<UInt64>) -> Range<UInt64> {
      lbas.lowerBound * 512..<lbas.upperBound * 512
    }
    rules[0].set([
      .init(operation: .read, bytes: bytes(64..<80), errno: EIO),
      .init(operation: .write, bytes: bytes(128..<144), errno: EIO),
      .init(operation: .write, bytes: bytes(200..<208), errno: ENOSPC),
    ])
    rules[1].set([.init(operation: .flush, bytes: 0..<1, errno: EIO)])
    let scratch = try host.allocate(8192)
    var expected: [UInt64: (NVMeStatus, lba: UInt64, nsid: UInt32)] = [:]
    for index in 0..<16 {
      zero(chunks[index])
      let lba = UInt64(index * 16)
      try queue.submit(
        .read(lba: lba, blocks: 16, buffer: chunks[index]), tag: UInt64(index), ring: false)
      expected[UInt64(index)] = (index == 4 ? .unrecoveredReadError : .success, lba, 1)
    }
    fillStamped(scratch, lba: 128, stamp: 8)
    try queue.submit(.write(lba: 128, blocks: 16, buffer: scratch), tag: 16, ring: false)
    expected[16] = (.writeFault, 128, 1)
    try queue.submit(.write(lba: 192, blocks: 16, buffer: scratch), tag: 17, ring: false)
    expected[17] = (.capacityExceeded, 192, 1)
    try queue.submit(.flush(namespace: 0xFFFF_FFFF), tag: 18, ring: false)
    expected[18] = (.writeFault, 0, 0xFFFF_FFFF)
    try queue.submit(.flush(namespace: 1), tag: 19)
    expected[19] = (.success, 0, 1)
    var statuses: [UInt64: NVMeStatus] = [:]
    try queue.process(minimum: 20, timeoutMilliseconds: 5000) { statuses[$0.tag] = $0.status }
    for (tag, want) in expected {
      #expect(
        statuses[tag]?.matches(want.0) == true,
        "command \(tag): \(String(describing: statuses[tag]))")
    }
    for index in 0..<16 where index != 4 {
      #expect(carries(chunks[index], lba: UInt64(index * 16), stamp: 7), "chunk \(index)")
    }
    // The four failures, newest first, each with its LBA and namespace.
    let log = try host.logPage(0x01, bytes: 4 * 64, into: logBuffer)
    let logged = (0..<4).map { ErrorEntry(Array(log[$0 * 64..<$0 * 64 + 64])) }
    let failures = expected.filter { !$0.value.0.isSuccess }
    #expect(
      Set(logged.map(\.commandID)).count == 4
        && logged.allSatisfy { entry in
          failures.values.contains {
            entry.status.matches($0.0) && entry.lba == $0.lba && entry.namespaceID == $0.nsid
          }
        }, "\(logged)")
    #expect(try host.mediaErrors(buffer: logBuffer) == 3, "EIO x3 are media errors, ENOSPC is not")

    rules[0].set([])
    rules[1].set([])
    var intact = 0
    for index in 0..<16 {
      zero(chunks[index])
      try host.execute(.read(lba: UInt64(index * 16), blocks: 16, buffer: chunks[index]), on: queue)
      if carries(chunks[index], lba: UInt64(index * 16), stamp: 7) { intact += 1 }
    }
    #expect(intact == 16, "the failed writes changed nothing")
    #expect(try host.controllerStatus() & 0b11 == 0b01)
    let injected = rules[0].injected + rules[1].injected
    print(
      "EIO faults injected (in-process backend): \(injected) requests failed (EIO read, EIO write, ENOSPC write, EIO flush of namespace 2) in a batch of 20 commands: 4 failed with Unrecovered Read Error / Write Fault / Capacity Exceeded / Write Fault, 16 succeeded; \(intact)/16 chunks intact afterwards"
    )
  }
}
