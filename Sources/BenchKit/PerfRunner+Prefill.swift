import NVMe
import NVMeHostDriver
import POSIX

extension PerfRunner {
  /// --verify on a read-only workload: writes the pattern (generation 1)
  /// over every chunk once, sequentially, `iodepth` writes in flight per
  /// queue, so every read that follows has something to check. Returns the
  /// chunks written; stops early on a signal, a hang-up (watch.stop) or a
  /// failed write (ioError).
  func prefill() throws -> UInt64 {
    generation = 1
    let chunks = workload.chunks
    var free = readyTags
    var next: UInt64 = 0
    var written: UInt64 = 0
    var outstanding = 0
    // Interrupt mode sleeps on the vectors, at most 50 ms so the watch
    // still looks; poll mode spins.
    var pollSet = InterruptPollSet(
      host: host, queues: queues, enabled: plan.completion == .interrupt)
    while next < chunks || outstanding > 0 {
      var progressed = false
      for (index, queue) in queues.enumerated() {
        while next < chunks, ioError == nil, let tag = free[index].popLast() {
          try submitPattern(chunk: next, tag: tag, on: queue)
          next &+= 1
          outstanding &+= 1
          progressed = true
        }
        try queue.ringDoorbell()
        if plan.completion == .interrupt { host.vectors?.consume(queue.vector) }
        guard queue.hasCompletion else { continue }
        try queue.reap { completion in
          let tag = Int(truncatingIfNeeded: completion.tag)
          guard tag >= 0, tag < chunkOfTag.count else { return }
          let chunk = Int(chunkOfTag[tag])
          if completion.isSuccess {
            chunkGeneration[chunk] = 1
            written &+= 1
          } else {
            chunkGeneration[chunk] = UInt32.max
            if ioError == nil {
              ioError =
                "writing the verify pattern first: write of LBA "
                + "\(UInt64(chunk) &* UInt64(blocksPerIO)): \(completion.status)"
            }
          }
          free[index].append(tag)
          outstanding &-= 1
          progressed = true
        }
      }
      if ioError != nil && outstanding == 0 { break }
      if let stop = watch.check(now: MonotonicClock.nanoseconds()) {
        if stop == .hangUp { throw hangUpError() }
        try finishPrefill()
        break
      }
      if !progressed { pollSet.wait(timeoutMilliseconds: 50) }
    }
    generation = 1
    return written
  }

  private func submitPattern(chunk: UInt64, tag: Int, on queue: NVMeQueue) throws {
    let buffer = buffers[tag]
    let lba = chunk &* UInt64(blocksPerIO)
    if let base = buffer.bytes.baseAddress {
      VerifyPattern.fill(
        base, lba: lba, blocks: blocksPerIO, blockSize: lbaSize, generation: 1)
    }
    chunkOfTag[tag] = chunk
    generationOfTag[tag] = 1
    try queue.submit(
      NVMeCommand.write(
        namespace: plan.namespace, lba: lba, blocks: blocksPerIO, buffer: buffer,
        using: plan.dataPointer),
      tag: UInt64(tag), ring: false)
  }

  /// After a signal: the writes in flight complete before the reset.
  private func finishPrefill() throws {
    for queue in queues where queue.outstanding > 0 {
      _ = try hangUpAware {
        try queue.process(minimum: queue.outstanding, timeoutMilliseconds: 10_000) { _ in }
      }
    }
  }
}
