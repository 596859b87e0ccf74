import NVMe
import NVMeHostDriver
import TestSupport
import Testing
import VFIOUser
import VFIOUserClient

extension NVMeVFUTests {
  /// Guest RAM shared without descriptors, a read held in the backend, then a
  /// CC write that disables the controller (a reset) or asks for a shutdown,
  /// or a config write of Initiate FLR (a whole-function reset).
  /// The client waits for that write's reply (QEMU does, holding its big
  /// lock), so the reply must be the very next message: no DMA_WRITE of the
  /// read's data or completion before it. Afterwards a reset has dropped the
  /// read, and a shutdown completes it and then reports SHST complete.
  @Test(arguments: ["reset", "flr", "shutdown"])
  func aControlWriteWithAnFdlessReadInFlightIsAnsweredFirst(kind: String) throws {
    let held = try #require(TestBackend(size: 1 << 20, gated: true))
    held.setReleaseOnDrain(true)
    let server = try InProcessServer { [held] }
    defer { server.shutdown() }
    let host = try server.host { $0.sharing = .messages }
    let queue = try firstQueue(host, try host.createIOQueues(count: 1, entries: 8))
    let data = try host.allocate(4096)
    data.bytes.initializeMemory(as: UInt8.self, repeating: 0xEE)
    try queue.submit(.read(lba: 0, blocks: 8, buffer: data))
    // The fetch of the SQE is a DMA_READ this client answers while it waits.
    #expect(
      ProcessProbe.eventually {
        try? host.client.pump()
        return held.snapshot.arrived == 1
      })

    let cc = try host.client.regionRead32(0, offset: RegisterOffset.cc)
    var writer = WireWriter()
    let access: RegionAccess
    if kind == "flr" {
      // Initiate FLR in PCIe Device Control, in config space (region 7).
      writer.write(UInt16(0x8000 | 0x2810))
      access = RegionAccess(offset: NVMeHost.deviceControlOffset, region: 7, count: 2)
    } else {
      writer.write(kind == "reset" ? cc & ~1 : (cc & ~(0b11 << 14)) | 1 << 14)
      access = RegionAccess(offset: RegisterOffset.cc, region: 0, count: 4)
    }
    let id = try host.client.connection.sendCommand(
      .regionWrite, payload: access.encoded + writer.bytes)
    var first = try host.client.connection.receive(timeoutMilliseconds: 5000)
    first.closeFDs()
    #expect(first.header.kind == .reply && first.header.id == id, "the reply, no DMA first")
    guard first.header.kind == .reply else { return }

    switch kind {
    case "reset", "flr":
      #expect(ProcessProbe.eventually { held.snapshot.completed == 1 }, "drained")
      let csts = try host.client.regionRead32(0, offset: RegisterOffset.csts)
      #expect(csts & 1 == 0, "not ready after CC.EN = 0")
      #expect(!queue.hasCompletion, "the read completes nowhere")
      #expect(data.bytes.allSatisfy { $0 == 0xEE }, "and its data went nowhere")
    default:
      // Reading CSTS serves the DMA messages that finish the read meanwhile.
      var shst: UInt32 = 0
      #expect(
        ProcessProbe.eventually {
          shst =
            (try? host.client.regionRead32(0, offset: RegisterOffset.csts)).map {
              $0 >> 2 & 0b11
            } ?? 0
          return shst == 0b10
        }, "SHST complete")
      try expectSuccess(queue)
      #expect(data.bytes.allSatisfy { $0 == 0 }, "the read's data (zeroes) landed")
    }
  }
}
