import Glibc
import POSIX
import Testing
import VFIOUser
import VFIOUserClient

@Suite struct DeviceQueryTests {
  @Test func deviceInfoDescribesTheDevice() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let info = try harness.client().deviceInfo()
    #expect(info.argsz == 16)
    #expect(info.flags == DeviceInfo.flagReset | DeviceInfo.flagPCI)
    #expect(info.numRegions == 9)
    #expect(info.numIRQs == 5)
  }

  @Test func argszTooSmallIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) {
      _ = try client.request(
        .deviceGetInfo, payload: DeviceInfo(argsz: 8, flags: 0, numRegions: 0, numIRQs: 0).encoded)
    }
    expectErrno(.invalidArgument) {
      _ = try client.request(.deviceGetRegionInfo, payload: RegionInfo(argsz: 16, index: 7).encoded)
    }
    expectErrno(.invalidArgument) {
      _ = try client.request(.deviceGetIRQInfo, payload: IRQInfo(argsz: 4, index: 0).encoded)
    }
    expectErrno(.invalidArgument) {
      _ = try client.request(
        .deviceGetRegionIOFDs, payload: RegionIOFDsInfo(argsz: 0, index: 0).encoded)
    }
    expectErrno(.invalidArgument) {
      let set = IRQSet(argsz: 12, data: .none, action: .trigger, index: 2, start: 0, count: 1)
      try client.setIRQs(set)
    }
    expectErrno(.invalidArgument) {
      let map = DMAMapRequest(argsz: 16, flags: 3, offset: 0, address: 0x1000, size: 0x1000)
      _ = try client.request(.dmaMap, payload: map.encoded)
    }
    expectErrno(.invalidArgument) {
      _ = try client.request(
        .dmaUnmap, payload: DMAUnmapRequest(argsz: 8, address: 0, size: 0x1000).encoded)
    }
    #expect(try client.deviceInfo().numIRQs == 5)
  }

  @Test func plainRegionInfo() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let reply = try harness.client().regionInfo(7)
    #expect(reply.info.size == 256)
    #expect(reply.info.flags == RegionInfo.flagRead | RegionInfo.flagWrite)
    #expect(reply.info.argsz == 32)
    #expect(reply.fd == nil)
    #expect(reply.sparse == nil)
  }

  @Test func absentRegionHasSizeZero() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let reply = try harness.client().regionInfo(4)
    #expect(reply.info.size == 0)
    #expect(reply.info.flags == 0)
    #expect(reply.fd == nil)
  }

  @Test func regionIndexOutOfRangeIsRefused() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    expectErrno(.invalidArgument) { _ = try client.regionInfo(9) }
    expectErrno(.invalidArgument) { _ = try client.regionInfo(.max) }
  }

  @Test func sparseMmapRegionSendsCapabilityAndAMappableFD() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let reply = try client.regionInfo(0)
    #expect(reply.info.flags & RegionInfo.flagMmap != 0)
    #expect(reply.info.flags & RegionInfo.flagCaps != 0)
    #expect(reply.info.capOffset == 32)
    #expect(reply.info.argsz == 32 + 16 + 16)
    #expect(reply.sparse?.areas == [SparseArea(offset: 0x1000, size: 0x1000)])
    let fd = try #require(reply.fd)
    defer { fd.close() }
    // The page the client maps is the page the device sees.
    let page = try MemoryMapping.map(
      fd: fd, offset: reply.info.offset + 0x1000, length: 0x1000, access: .readWrite)
    defer { page.unmap() }
    page.buffer.storeBytes(of: UInt32(0xDEAD_BEEF), toByteOffset: 0x10, as: UInt32.self)
    #expect(try client.regionRead32(0, offset: 0x1010) == 0xDEAD_BEEF)
    try client.regionWrite32(0, offset: 0x1020, 0x1234_5678)
    #expect(page.buffer.load(fromByteOffset: 0x20, as: UInt32.self) == 0x1234_5678)
  }

  @Test func smallArgszGetsTheNeededSizeAndNoFD() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let reply = try harness.client().regionInfo(0, argsz: 32)
    #expect(reply.info.argsz == 64)
    // No CAPS flag without the capabilities: QEMU rejects a CAPS flag whose cap_offset
    // does not point inside the reply, rather than retrying with the needed argsz.
    #expect(reply.info.flags & RegionInfo.flagCaps == 0)
    #expect(reply.info.capOffset == 0)
    #expect(reply.fd == nil)
    #expect(reply.sparse == nil)
  }

  @Test func regionIOFDsIsAnHonestNone() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    var reply = try client.request(
      .deviceGetRegionIOFDs, payload: RegionIOFDsInfo(argsz: 1024, index: 0).encoded)
    #expect(reply.takeFDs().isEmpty)
    let info = try RegionIOFDsInfo(payload: reply.payload)
    #expect(info.count == 0)
    #expect(info.index == 0)
    #expect(info.argsz == 16)
    expectErrno(.invalidArgument) {
      _ = try client.request(
        .deviceGetRegionIOFDs, payload: RegionIOFDsInfo(argsz: 1024, index: 9).encoded)
    }
  }

  @Test func irqInfoForEveryType() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    let intx = try client.irqInfo(0)
    #expect(intx.count == 1)
    #expect(intx.flags & IRQInfo.flagMaskable != 0)
    #expect(intx.flags & IRQInfo.flagAutomasked != 0)
    let msix = try client.irqInfo(2)
    #expect(msix.count == 8)
    #expect(msix.index == 2)
    #expect(msix.argsz == 16)
    expectErrno(.invalidArgument) { _ = try client.irqInfo(5) }
  }

  @Test func resetReachesTheDevice() throws {
    let harness = try ServerHarness()
    defer { harness.shutdown() }
    let client = try harness.client()
    try client.regionWrite32(0, offset: 0x40, 99)
    try client.reset()
    #expect(harness.log.snapshot.resets == 1)
    #expect(try client.regionRead32(0, offset: 0x40) == 0)
  }
}
