import BlockIO
import TestSupport
import Testing

@testable import NVMe

/// SGL data pointers on I/O commands: data blocks, segments, bit buckets,
/// and the descriptor types and lengths the walker refuses.
@Suite struct ControllerSGLTests {
  typealias H = ControllerHarness

  func dataBlock(_ address: UInt64, _ length: UInt32) -> SGLDescriptor {
    SGLDescriptor(address: address, length: length, type: .dataBlock)
  }

  @Test(arguments: [true, false])
  func sglDataBlockAtAnUnalignedAddress(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 1536, seed: 9)
    let address = H.page(16) + 3
    harness.memory.poke(address, data)
    let write = H.rwSGL(.write, slba: 7, blocks: 3, descriptor: dataBlock(address, 1536))
    #expect(harness.io(write) == .success)
    #expect(harness.stored(offset: 7 * 512, count: 1536) == data)
    let target = H.page(30) + 5
    let read = H.rwSGL(.read, slba: 7, blocks: 3, descriptor: dataBlock(target, 1536))
    #expect(harness.io(read) == .success)
    #expect(harness.memory.peek(target, 1536) == data)
    #expect(harness.memory.peek(target - 5, 5).allSatisfy { $0 == 0 })
  }

  @Test(arguments: [true, false])
  func sglSegmentThenLastSegment(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 2048, seed: 10)
    let segment = H.page(H.listArea)
    let last = H.page(H.listArea + 2)
    harness.memory.pokeDescriptors(
      segment,
      [
        dataBlock(H.page(16), 512), dataBlock(H.page(18) + 100, 512),
        SGLDescriptor(address: last, length: 32, type: .lastSegment),
      ])
    harness.memory.pokeDescriptors(last, [dataBlock(H.page(20), 256), dataBlock(H.page(22), 768)])
    let pieces: [(UInt64, Int)] = [
      (H.page(16), 512), (H.page(18) + 100, 512), (H.page(20), 256), (H.page(22), 768),
    ]
    var offset = 0
    for (address, count) in pieces {
      harness.memory.poke(address, Array(data[offset..<(offset + count)]))
      offset += count
    }
    let descriptor = SGLDescriptor(address: segment, length: 48, type: .segment)
    #expect(harness.io(H.rwSGL(.write, slba: 50, blocks: 4, descriptor: descriptor)) == .success)
    #expect(harness.stored(offset: 50 * 512, count: 2048) == data)
    for (address, count) in pieces {
      harness.memory.poke(address, [UInt8](repeating: 0xEE, count: count))
    }
    #expect(harness.io(H.rwSGL(.read, slba: 50, blocks: 4, descriptor: descriptor)) == .success)
    offset = 0
    for (address, count) in pieces {
      #expect(harness.memory.peek(address, count) == Array(data[offset..<(offset + count)]))
      offset += count
    }
  }

  @Test(arguments: [true, false])
  func sglBitBucketDropsPartOfARead(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 1536, seed: 11)
    #expect(harness.write(data, slba: 3) == .success)
    let segment = H.page(H.listArea)
    harness.memory.pokeDescriptors(
      segment,
      [
        dataBlock(H.page(30), 512), SGLDescriptor(address: 0, length: 512, type: .bitBucket),
        dataBlock(H.page(31), 512),
      ])
    harness.memory.poke(H.page(30), [UInt8](repeating: 0xEE, count: 4096 * 2))
    let read = H.rwSGL(
      .read, slba: 3, blocks: 3,
      descriptor: SGLDescriptor(address: segment, length: 48, type: .lastSegment))
    #expect(harness.io(read) == .success)
    #expect(harness.memory.peek(H.page(30), 512) == Array(data[0..<512]))
    #expect(harness.memory.peek(H.page(30) + 512, 3584).allSatisfy { $0 == 0xEE })
    #expect(harness.memory.peek(H.page(31), 512) == Array(data[1024..<1536]))
    // A bit bucket makes no sense for data the host sends.
    let write = H.rwSGL(
      .write, slba: 3, blocks: 3,
      descriptor: SGLDescriptor(address: segment, length: 48, type: .lastSegment))
    #expect(harness.io(write) == .sglDescriptorTypeInvalid)
    #expect(harness.stored(offset: 3 * 512, count: 1536) == data)
  }

  /// What Linux 7.x sends for an unprivileged `nvme io-passthru --opcode 2
  /// --data-len 4096` (blktests nvme/046): one block to read, an SGL Data Block
  /// for the whole 4 KiB user buffer. It used to fail with Data SGL Length
  /// Invalid; now the block lands at the start and the rest is untouched.
  @Test(arguments: [true, false])
  func sglLongerThanTheTransfer(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 512, seed: 21)
    harness.memory.poke(H.page(16), data)
    #expect(
      harness.io(H.rwSGL(.write, slba: 5, blocks: 1, descriptor: dataBlock(H.page(16), 4096)))
        == .success)
    #expect(harness.stored(offset: 5 * 512, count: 512) == data)
    #expect(harness.stored(offset: 6 * 512, count: 512).allSatisfy { $0 == 0 })
    let target = H.page(30)
    harness.memory.poke(target, [UInt8](repeating: 0xEE, count: 4096))
    #expect(
      harness.io(H.rwSGL(.read, slba: 5, blocks: 1, descriptor: dataBlock(target, 4096)))
        == .success)
    #expect(harness.memory.peek(target, 512) == data)
    #expect(harness.memory.peek(target + 512, 3584).allSatisfy { $0 == 0xEE })
  }

  @Test func sglRefusals() throws {
    let harness = try H.ready()
    let keyed = SGLDescriptor(address: H.page(16), length: 512, type: .keyedDataBlock)
    let status = harness.io(H.rwSGL(.read, slba: 0, blocks: 1, descriptor: keyed))
    #expect(status == .sglDescriptorTypeInvalid)
    #expect(status?.sct == 0 && status?.sc == 0x11)
    let transport = SGLDescriptor(address: H.page(16), length: 512, type: .transportDataBlock)
    #expect(
      harness.io(H.rwSGL(.read, slba: 0, blocks: 1, descriptor: transport))
        == .sglDescriptorTypeInvalid)
    let offsetSubtype = SGLDescriptor(address: 0, length: 512, type: .dataBlock, subtype: 1)
    #expect(
      harness.io(H.rwSGL(.read, slba: 0, blocks: 1, descriptor: offsetSubtype))
        == .sglDescriptorTypeInvalid)
    // The descriptors must cover the transfer (a longer SGL is fine: SGLS bit 18).
    #expect(
      harness.io(H.rwSGL(.read, slba: 0, blocks: 1, descriptor: dataBlock(H.page(16), 256)))
        == .dataSGLLengthInvalid)
    // A segment in unmapped memory.
    let lost = SGLDescriptor(address: 0x9000_0000, length: 32, type: .lastSegment)
    #expect(harness.io(H.rwSGL(.read, slba: 0, blocks: 1, descriptor: lost)) == .dataTransferError)
    // A data block in unmapped memory.
    let write = H.rwSGL(.write, slba: 0, blocks: 1, descriptor: dataBlock(0x9000_0000, 512))
    #expect(harness.io(write) == .dataTransferError)
    #expect(harness.backends[0].bytes.allSatisfy { $0 == 0 })
  }

  @Test func sglRefusedWhenNotSupported() throws {
    let settings = ControllerSettings(ioQueues: 4, maxQueueEntries: 256, sglSupported: false)
    let harness = try H.ready(settings: settings)
    let read = H.rwSGL(.read, slba: 0, blocks: 1, descriptor: dataBlock(H.page(16), 512))
    #expect(harness.io(read) == .invalidField)
  }

  @Test(arguments: [true, false])
  func compareAndDeallocateThroughSGL(translation: Bool) throws {
    let harness = try H.ready(translation: translation)
    let data = pattern(count: 1024, seed: 12)
    #expect(harness.write(data, slba: 0) == .success)
    harness.memory.poke(H.page(40) + 8, data)
    let compare = H.rwSGL(.compare, slba: 0, blocks: 2, descriptor: dataBlock(H.page(40) + 8, 1024))
    #expect(harness.io(compare) == .success)
    harness.memory.poke(H.page(40) + 8, [0])
    #expect(harness.io(compare) == .compareFailure)
    // DSM's range list through an SGL data block.
    var range = [UInt8](repeating: 0, count: 16)
    range[4] = 1  // one block at LBA 1
    range[8] = 1
    harness.memory.poke(H.page(41) + 16, range)
    var dsm = SubmissionQueueEntry(
      opcode: NVMOpcode.datasetManagement.rawValue, commandIdentifier: 0, namespaceIdentifier: 1,
      cdw11: 1 << 2)
    dsm.dataPointerType = .sglContiguousMetadata
    dsm.sglDescriptor = dataBlock(H.page(41) + 16, 16)
    #expect(harness.io(dsm) == .success)
    #expect(harness.stored(offset: 0, count: 512) == Array(data[0..<512]))
    #expect(harness.stored(offset: 512, count: 512).allSatisfy { $0 == 0 })
  }
}
