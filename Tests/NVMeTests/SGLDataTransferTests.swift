import TestSupport
import Testing

@testable import NVMe

@Suite("Data transfer along segments")
struct SGLDataTransferTests {
  func memory() -> WindowedGuestMemory {
    WindowedGuestMemory([(0x10000, 0x2000), (0x40000, 0x2000)])
  }

  @Test("Copy to guest across two windows, bit bucket swallowing its share")
  func copyToGuest() throws {
    let mem = memory()
    let source = (0..<0x300).map { UInt8(truncatingIfNeeded: $0) }
    let segments = [
      DataSegment(address: 0x10FF0, length: 0x100),
      DataSegment(address: 0, length: 0x100, isBitBucket: true),
      DataSegment(address: 0x40000, length: 0x200),
    ]
    let copied = try DataTransfer.copyToGuest(source, segments: segments, memory: mem)
    #expect(copied == 0x300)
    #expect(mem.peek(0x10FF0, 0x100) == Array(source[0..<0x100]))
    #expect(mem.peek(0x40000, 0x100) == Array(source[0x200..<0x300]))
    #expect(mem.peek(0x40100, 0x100) == [UInt8](repeating: 0, count: 0x100))
  }

  @Test("Copy stops at the shorter of source and segments")
  func shortCopies() throws {
    let mem = memory()
    let segments = [DataSegment(address: 0x10000, length: 0x100)]
    #expect(
      try DataTransfer.copyToGuest(
        [UInt8](repeating: 7, count: 0x200), segments: segments, memory: mem) == 0x100)
    #expect(try DataTransfer.copyToGuest([1, 2, 3], segments: segments, memory: mem) == 3)
    #expect(mem.peek(0x10000, 4) == [1, 2, 3, 7])
  }

  @Test("Copy into unmapped guest memory is Data Transfer Error")
  func copyToUnmapped() {
    let mem = memory()
    #expect(throws: NVMeStatus.dataTransferError) {
      try DataTransfer.copyToGuest(
        [UInt8](repeating: 1, count: 32), segments: [DataSegment(address: 0x11FF0, length: 32)],
        memory: mem)
    }
  }

  @Test("Copy from guest, and bit buckets refused there")
  func copyFromGuest() throws {
    let mem = memory()
    mem.poke(0x10000, [1, 2, 3, 4])
    mem.poke(0x40000, [5, 6])
    let segments = [
      DataSegment(address: 0x10000, length: 4), DataSegment(address: 0x40000, length: 2),
    ]
    #expect(
      try DataTransfer.copyFromGuest(segments: segments, length: 6, memory: mem) == [
        1, 2, 3, 4, 5, 6,
      ])
    #expect(
      try DataTransfer.copyFromGuest(segments: segments, length: 5, memory: mem) == [1, 2, 3, 4, 5])
    #expect(throws: NVMeStatus.sglDescriptorTypeInvalid) {
      try DataTransfer.copyFromGuest(
        segments: [DataSegment(address: 0, length: 4, isBitBucket: true)], length: 4, memory: mem)
    }
    #expect(throws: NVMeStatus.dataTransferError) {
      try DataTransfer.copyFromGuest(
        segments: [DataSegment(address: 0x900000, length: 4)], length: 4, memory: mem)
    }
  }

  @Test("PRP walk feeding a copy: Identify-sized buffer at an offset")
  func prpThenCopy() throws {
    let mem = memory()
    let segments = try PRPList.segments(
      prp1: 0x11800, prp2: 0x40000, length: 4096, pageSize: 4096, maxTransferLength: 1 << 20,
      memory: mem)
    let page = (0..<4096).map { UInt8(truncatingIfNeeded: $0 / 16) }
    #expect(try DataTransfer.copyToGuest(page, segments: segments, memory: mem) == 4096)
    #expect(mem.peek(0x11800, 0x800) == Array(page[0..<0x800]))
    #expect(mem.peek(0x40000, 0x800) == Array(page[0x800..<0x1000]))
  }
}

@Suite("Data pointer dispatch on PSDT")
struct SGLDispatchTests {
  @Test("PRP, SGL, SGL not allowed, reserved PSDT")
  func dispatch() throws {
    let mem = WindowedGuestMemory([(0x10000, 0x2000)])
    let limits = DataPointerLimits(pageSize: 4096, maxTransferLength: 1 << 20, allowSGL: true)
    var sqe = SubmissionQueueEntry(
      opcode: NVMOpcode.read.rawValue, commandIdentifier: 1, prp1: 0x10000)
    #expect(
      try sqe.dataSegments(length: 512, direction: .controllerToHost, limits: limits, memory: mem)
        == [DataSegment(address: 0x10000, length: 512)])
    sqe.dataPointerType = .sglContiguousMetadata
    sqe.sglDescriptor = SGLDescriptor(address: 0x10800, length: 512, type: .dataBlock)
    #expect(
      try sqe.dataSegments(length: 512, direction: .controllerToHost, limits: limits, memory: mem)
        == [DataSegment(address: 0x10800, length: 512)])
    var noSGL = limits
    noSGL.allowSGL = false
    #expect(throws: NVMeStatus.invalidField) {
      try sqe.dataSegments(length: 512, direction: .controllerToHost, limits: noSGL, memory: mem)
    }
    sqe.dataPointerType = .reserved
    #expect(throws: NVMeStatus.invalidField) {
      try sqe.dataSegments(length: 512, direction: .controllerToHost, limits: limits, memory: mem)
    }
  }
}
