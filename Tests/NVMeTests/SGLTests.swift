import TestSupport
import Testing

@testable import NVMe

@Suite("SGL walking")
struct SGLTests {
  static let mdts = 1 << 20

  /// Data at 0x10000 (64 KiB), SGL segments at 0x100000 (16 KiB).
  func memory() -> WindowedGuestMemory {
    WindowedGuestMemory([(0x10000, 0x10000), (0x100000, 0x4000)])
  }

  func data(_ address: UInt64, _ length: UInt32) -> SGLDescriptor {
    SGLDescriptor(address: address, length: length, type: .dataBlock)
  }

  func walk(
    _ memory: WindowedGuestMemory, _ descriptor: SGLDescriptor, length: Int,
    direction: TransferDirection = .controllerToHost, maxDescriptors: Int = 4096
  ) throws -> [DataSegment] {
    try SGL.segments(
      descriptor: descriptor, length: length, direction: direction, maxTransferLength: Self.mdts,
      memory: memory, maxDescriptors: maxDescriptors)
  }

  @Test("A single Data Block in DPTR")
  func singleDataBlock() throws {
    let mem = memory()
    #expect(
      try walk(mem, data(0x10003, 0x1000), length: 0x1000) == [
        DataSegment(address: 0x10003, length: 0x1000)
      ])
    #expect(mem.reads == 0)
    #expect(try walk(mem, data(0x10003, 0x1000), length: 0) == [])
  }

  @Test("The Data Block must cover the transfer length; what it has more is not used")
  func dataBlockLengthMismatch() throws {
    #expect(throws: NVMeStatus.dataSGLLengthInvalid) {
      try walk(memory(), data(0x10000, 0x800), length: 0x1000)
    }
    // SGLS bit 18: longer than the transfer is allowed, and cut to it.
    #expect(
      try walk(memory(), data(0x10000, 0x1001), length: 0x1000) == [
        DataSegment(address: 0x10000, length: 0x1000)
      ])
  }

  @Test("Segment chains to a Last Segment")
  func segmentToLastSegment() throws {
    let mem = memory()
    mem.pokeDescriptors(
      0x100000,
      [
        data(0x10000, 0x1000), data(0x20000, 0x800),
        SGLDescriptor(address: 0x101000, length: 32, type: .lastSegment),
      ])
    mem.pokeDescriptors(0x101000, [data(0x30000, 0x800), data(0x30800, 0x1000)])
    let segments = try walk(
      mem, SGLDescriptor(address: 0x100000, length: 48, type: .segment), length: 0x3000)
    #expect(
      segments == [
        DataSegment(address: 0x10000, length: 0x1000), DataSegment(address: 0x20000, length: 0x800),
        DataSegment(address: 0x30000, length: 0x1800),
      ])
    #expect(mem.reads == 2)
  }

  @Test("A Segment whose last descriptor is data ends the list (Linux full page)")
  func segmentEndingInData() throws {
    let mem = memory()
    mem.pokeDescriptors(0x100000, [data(0x10000, 0x200), data(0x20000, 0x200)])
    let segments = try walk(
      mem, SGLDescriptor(address: 0x100000, length: 32, type: .segment), length: 0x400)
    #expect(segments.count == 2)
  }

  @Test("Bit Bucket in a read is marked and counts toward the length")
  func bitBucketRead() throws {
    let mem = memory()
    mem.pokeDescriptors(
      0x100000,
      [
        data(0x10000, 0x1000), SGLDescriptor(address: 0, length: 0x200, type: .bitBucket),
        data(0x20000, 0xE00),
      ])
    let segments = try walk(
      mem, SGLDescriptor(address: 0x100000, length: 48, type: .lastSegment), length: 0x2000)
    #expect(
      segments == [
        DataSegment(address: 0x10000, length: 0x1000),
        DataSegment(address: 0, length: 0x200, isBitBucket: true),
        DataSegment(address: 0x20000, length: 0xE00),
      ])
  }

  @Test("Bit Bucket in a write is SGL Descriptor Type Invalid")
  func bitBucketWrite() {
    let mem = memory()
    mem.pokeDescriptors(
      0x100000, [data(0x10000, 0x1000), SGLDescriptor(address: 0, length: 0x200, type: .bitBucket)])
    #expect(throws: NVMeStatus.sglDescriptorTypeInvalid) {
      try walk(
        mem, SGLDescriptor(address: 0x100000, length: 32, type: .lastSegment), length: 0x1200,
        direction: .hostToController)
    }
    #expect(throws: NVMeStatus.sglDescriptorTypeInvalid) {
      try walk(
        mem, SGLDescriptor(address: 0, length: 0x200, type: .bitBucket), length: 0x200,
        direction: .hostToController)
    }
  }

  @Test("Keyed, transport, reserved types and the Offset subtype are rejected")
  func unsupportedTypes() {
    let mem = memory()
    for descriptor in [
      SGLDescriptor(address: 0x10000, length: 0x1000, type: .keyedDataBlock),
      SGLDescriptor(address: 0x10000, length: 0x1000, type: .transportDataBlock),
      SGLDescriptor(address: 0x10000, length: 0x1000, identifier: 0x60),
      SGLDescriptor(address: 0x10000, length: 0x1000, type: .dataBlock, subtype: 1),
      SGLDescriptor(address: 0x100000, length: 16, type: .lastSegment, subtype: 1),
    ] {
      #expect(throws: NVMeStatus.sglDescriptorTypeInvalid) {
        try walk(mem, descriptor, length: 0x1000)
      }
    }
    mem.pokeDescriptors(
      0x100000, [SGLDescriptor(address: 0x10000, length: 0x1000, type: .keyedDataBlock)])
    #expect(throws: NVMeStatus.sglDescriptorTypeInvalid) {
      try walk(
        mem, SGLDescriptor(address: 0x100000, length: 16, type: .lastSegment), length: 0x1000)
    }
  }

  @Test("Lengths in a segment list that do not add up")
  func segmentLengthMismatch() throws {
    let mem = memory()
    mem.pokeDescriptors(0x100000, [data(0x10000, 0x800), data(0x20000, 0x800)])
    let last = SGLDescriptor(address: 0x100000, length: 32, type: .lastSegment)
    #expect(throws: NVMeStatus.dataSGLLengthInvalid) { try walk(mem, last, length: 0x1800) }
    #expect(try walk(mem, last, length: 0x1000).totalLength == 0x1000)
    // Longer than the transfer: the second descriptor is cut.
    #expect(
      try walk(mem, last, length: 0xC00) == [
        DataSegment(address: 0x10000, length: 0x800), DataSegment(address: 0x20000, length: 0x400),
      ])
  }

  @Test("A list that has covered the transfer is not followed further")
  func listLongerThanTransferStopsReading() throws {
    let mem = memory()
    // The segment's last entry chains to a segment in unmapped memory: never read.
    mem.pokeDescriptors(
      0x100000,
      [data(0x10000, 0x1000), SGLDescriptor(address: 0x9000_0000, length: 16, type: .lastSegment)])
    let first = SGLDescriptor(address: 0x100000, length: 32, type: .segment)
    #expect(try walk(mem, first, length: 0x1000) == [DataSegment(address: 0x10000, length: 0x1000)])
    // Still short of the transfer, the same chain is followed and fails.
    #expect(throws: NVMeStatus.dataTransferError) { try walk(mem, first, length: 0x1400) }
  }

  @Test("Zero-length data descriptors are skipped")
  func zeroLengthData() throws {
    let mem = memory()
    mem.pokeDescriptors(0x100000, [data(0x10000, 0), data(0x20000, 0x200), data(0x30000, 0)])
    let segments = try walk(
      mem, SGLDescriptor(address: 0x100000, length: 48, type: .lastSegment), length: 0x200)
    #expect(segments == [DataSegment(address: 0x20000, length: 0x200)])
  }

  @Test("Segment length must be a non-zero multiple of 16")
  func segmentLengthNotMultiple() {
    #expect(throws: NVMeStatus.invalidSGLSegmentDescriptor) {
      try walk(
        memory(), SGLDescriptor(address: 0x100000, length: 24, type: .lastSegment), length: 16)
    }
    #expect(throws: NVMeStatus.invalidSGLSegmentDescriptor) {
      try walk(memory(), SGLDescriptor(address: 0x100000, length: 0, type: .segment), length: 16)
    }
  }

  @Test("Segment descriptors only as the last entry, and never inside a Last Segment")
  func misplacedSegmentDescriptors() {
    let mem = memory()
    mem.pokeDescriptors(
      0x100000,
      [SGLDescriptor(address: 0x101000, length: 16, type: .lastSegment), data(0x10000, 0x200)])
    #expect(throws: NVMeStatus.invalidSGLSegmentDescriptor) {
      try walk(mem, SGLDescriptor(address: 0x100000, length: 32, type: .segment), length: 0x200)
    }
    mem.pokeDescriptors(
      0x102000,
      [data(0x10000, 0x200), SGLDescriptor(address: 0x101000, length: 16, type: .lastSegment)])
    #expect(throws: NVMeStatus.invalidSGLSegmentDescriptor) {
      try walk(mem, SGLDescriptor(address: 0x102000, length: 32, type: .lastSegment), length: 0x400)
    }
  }

  @Test("Too many descriptors")
  func tooManyDescriptors() throws {
    let mem = memory()
    mem.pokeDescriptors(0x100000, (0..<16).map { data(0x10000 + UInt64($0) * 0x100, 0x100) })
    let last = SGLDescriptor(address: 0x100000, length: 256, type: .lastSegment)
    #expect(throws: NVMeStatus.invalidNumberOfSGLDescriptors) {
      try walk(mem, last, length: 0x1000, maxDescriptors: 8)
    }
    #expect(try walk(mem, last, length: 0x1000, maxDescriptors: 16).totalLength == 0x1000)
  }

  @Test("A segment chaining to itself runs out of descriptor budget")
  func selfChainingSegment() {
    let mem = memory()
    mem.pokeDescriptors(
      0x100000, [data(0x10000, 0), SGLDescriptor(address: 0x100000, length: 32, type: .segment)])
    #expect(throws: NVMeStatus.invalidNumberOfSGLDescriptors) {
      try walk(mem, SGLDescriptor(address: 0x100000, length: 32, type: .segment), length: 0x200)
    }
    #expect(mem.reads <= 2048)
  }

  @Test("A segment outside mapped memory")
  func segmentUnmapped() {
    let mem = memory()
    #expect(throws: NVMeStatus.dataTransferError) {
      try walk(mem, SGLDescriptor(address: 0x900000, length: 16, type: .lastSegment), length: 16)
    }
    // Straddling the end of the window.
    #expect(throws: NVMeStatus.dataTransferError) {
      try walk(mem, SGLDescriptor(address: 0x103FF0, length: 32, type: .lastSegment), length: 16)
    }
  }

  @Test("Data Block that wraps the address space")
  func addressWrap() {
    #expect(throws: NVMeStatus.dataTransferError) {
      try walk(memory(), data(0xFFFF_FFFF_FFFF_FF00, 0x200), length: 0x200)
    }
  }

  @Test("Transfer above MDTS is Invalid Field")
  func aboveMDTS() {
    #expect(throws: NVMeStatus.invalidField) {
      try walk(memory(), data(0x10000, UInt32(Self.mdts + 1)), length: Self.mdts + 1)
    }
  }
}
