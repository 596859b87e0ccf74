import Logging
import POSIX

/// One handler per command. Each validates the untrusted payload fully before acting and
/// throws the errno the client gets back.
extension VFIOUserServer {
  func dispatch(_ message: inout Message) throws(Errno) -> Outcome {
    let header = message.header
    guard let command = header.command else { throw .notImplemented }
    if message.fdsTruncated || message.fds.count > Int(options.capabilities.maxMessageFDs) {
      throw .invalidArgument
    }
    if command == .version { return negotiate(message) }
    guard let negotiated else { throw .invalidArgument }  // VERSION must come first
    // Only these commands carry descriptors; DMA_UNMAP's (sent by SPDK) is accepted and closed.
    switch command {
    case .dmaMap, .dmaUnmap: guard message.fds.count <= 1 else { throw .invalidArgument }
    case .deviceSetIRQs: break
    default: guard message.fds.isEmpty else { throw .invalidArgument }
    }
    let payload = message.payload
    switch command {
    case .dmaMap: return try dmaMap(payload, fd: message.fds.first)
    case .dmaUnmap: return try dmaUnmap(payload)
    case .deviceGetInfo: return try deviceInfo(payload)
    case .deviceGetRegionInfo: return try regionInfo(payload)
    case .deviceGetRegionIOFDs: return try regionIOFDs(payload)
    case .deviceGetIRQInfo: return try irqInfo(payload)
    case .deviceSetIRQs:
      try setIRQs(payload, fds: message.fds)
      _ = message.takeFDs()  // the table owns them now
      return .empty
    case .regionRead: return try regionRead(payload)
    case .regionWrite: return try regionWrite(payload)
    case .regionWriteMulti: return try regionWriteMulti(payload, negotiated: negotiated)
    case .deviceReset:
      guard payload.isEmpty else { throw .invalidArgument }
      try device.reset()
      return .empty
    case .version:
      return negotiate(message)  // unreachable: handled before the negotiation check
    case .dmaRead, .dmaWrite:
      throw .invalidArgument  // server-to-client only
    }
  }

  private func negotiate(_ message: Message) -> Outcome {
    guard negotiated == nil else { return .failure(.invalidArgument) }
    guard message.fds.isEmpty else { return .fatal(.invalidArgument) }
    do {
      let proposal = try VersionMessage(payload: message.payload)
      let (reply, agreed) = try VersionNegotiation.negotiate(
        proposal: proposal, server: options.capabilities)
      negotiated = agreed
      dma.maxMappings = agreed.maxDMAMaps
      logger.info("negotiated version \(reply.major).\(reply.minor): \(agreed.peer)")
      return .payload(reply.encoded)
    } catch {
      return .fatal(error)
    }
  }

  private func dmaMap(_ payload: [UInt8], fd: FileDescriptor?) throws(Errno) -> Outcome {
    let request = try DMAMapRequest(payload: payload)
    guard request.argsz >= UInt32(DMAMapRequest.size) else { throw .invalidArgument }
    let region = try dma.add(request, fd: fd)
    logger.debug("DMA map \(region)")
    device.dmaMapped(region)
    return .empty
  }

  private func dmaUnmap(_ payload: [UInt8]) throws(Errno) -> Outcome {
    let request = try DMAUnmapRequest(payload: payload)
    guard request.argsz >= UInt32(DMAUnmapRequest.size) else { throw .invalidArgument }
    if request.flags & DMAUnmapRequest.getDirtyBitmap != 0 { throw .notSupported }
    guard request.flags & ~DMAUnmapRequest.all == 0 else { throw .invalidArgument }
    if request.flags & DMAUnmapRequest.all != 0 {
      guard request.address == 0, request.size == 0 else { throw .invalidArgument }
      unmapAllDMA()
    } else {
      guard let region = dma.find(address: request.address, size: request.size) else {
        throw .notFound
      }
      // The spec: release every reference (in-flight DMA included) before replying.
      device.dmaWillUnmap(region)
      try dma.remove(address: region.address, size: region.size)
      logger.debug("DMA unmap \(region)")
    }
    return .payload(request.encoded)
  }

  private func deviceInfo(_ payload: [UInt8]) throws(Errno) -> Outcome {
    let request = try DeviceInfo(payload: payload)
    guard request.argsz >= UInt32(DeviceInfo.size) else { throw .invalidArgument }
    let info = DeviceInfo(
      flags: device.deviceFlags, numRegions: UInt32(device.regionCount),
      numIRQs: UInt32(device.irqInfos.count))
    return .payload(info.encoded)
  }

  private func regionInfo(_ payload: [UInt8]) throws(Errno) -> Outcome {
    let request = try RegionInfo(payload: payload)
    guard request.argsz >= UInt32(RegionInfo.size), request.index < UInt32(device.regionCount)
    else { throw .invalidArgument }
    let region = device.region(Int(request.index))
    var info = RegionInfo(index: request.index, size: region.size)
    if region.readable { info.flags |= RegionInfo.flagRead }
    if region.writable { info.flags |= RegionInfo.flagWrite }
    var capability: SparseMmapCapability?
    if let mmap = region.mmap, region.size > 0 {
      info.flags |= RegionInfo.flagMmap
      info.offset = mmap.offset
      if let areas = mmap.sparseAreas {
        info.flags |= RegionInfo.flagCaps
        capability = SparseMmapCapability(areas: areas)
      }
    }
    let needed = RegionInfo.size + (capability?.encodedSize ?? 0)
    info.argsz = UInt32(needed)
    guard Int(request.argsz) >= needed else {
      // Too small for the capabilities: say how much is needed, send no descriptor. The
      // CAPS flag stays off here: QEMU refuses CAPS with a cap_offset outside the reply
      // (the kernel's cap_offset 0 convention) instead of retrying with the larger argsz.
      info.flags &= ~RegionInfo.flagCaps
      return .payload(info.encoded)
    }
    var writer = WireWriter(capacity: needed)
    if capability != nil { info.capOffset = UInt32(RegionInfo.size) }
    info.encode(to: &writer)
    capability?.encode(to: &writer)
    let fds = region.mmap.map { [$0.fd] } ?? []
    return .success(payload: writer.bytes, fds: region.size > 0 ? fds : [])
  }

  private func regionIOFDs(_ payload: [UInt8]) throws(Errno) -> Outcome {
    let request = try RegionIOFDsInfo(payload: payload)
    guard request.argsz >= UInt32(RegionIOFDsInfo.size), request.index < UInt32(device.regionCount)
    else { throw .invalidArgument }
    // Honest "none": no ioeventfd/ioregionfd sub-regions are offered.
    return .payload(RegionIOFDsInfo(index: request.index, count: 0).encoded)
  }

  private func irqInfo(_ payload: [UInt8]) throws(Errno) -> Outcome {
    let request = try IRQInfo(payload: payload)
    let infos = device.irqInfos
    guard request.argsz >= UInt32(IRQInfo.size), request.index < UInt32(infos.count) else {
      throw .invalidArgument
    }
    var info = infos[Int(request.index)]
    info.argsz = UInt32(IRQInfo.size)
    info.index = request.index
    return .payload(info.encoded)
  }

  private func setIRQs(_ payload: [UInt8], fds: [FileDescriptor]) throws(Errno) {
    let request = try IRQSet(payload: payload)
    try irqs.apply(request, fds: fds)
    device.irqsChanged(index: Int(request.index))
  }

  /// Validates a region access: known, non-empty region with the permission, within
  /// bounds, and no larger than the negotiated transfer size.
  private func checkAccess(_ access: RegionAccess, write: Bool) throws(Errno) {
    guard access.count <= options.capabilities.maxDataTransferSize else { throw .tooBig }
    guard access.region < UInt32(device.regionCount) else { throw .invalidArgument }
    let region = device.region(Int(access.region))
    guard write ? region.writable : region.readable else { throw .invalidArgument }
    let (end, overflow) = access.offset.addingReportingOverflow(UInt64(access.count))
    guard !overflow, end <= region.size else { throw .invalidArgument }
  }

  private func regionRead(_ payload: [UInt8]) throws(Errno) -> Outcome {
    let access = try RegionAccess(payload: payload)
    guard payload.count == RegionAccess.size else { throw .invalidArgument }
    try checkAccess(access, write: false)
    var data = [UInt8](repeating: 0, count: Int(access.count))
    try typedThrows {
      try data.withUnsafeMutableBytes { buffer in
        try device.readRegion(Int(access.region), offset: access.offset, into: buffer)
      }
    }
    var writer = WireWriter(capacity: RegionAccess.size + data.count)
    access.encode(to: &writer)
    writer.append(data)
    return .payload(writer.bytes)
  }

  private func regionWrite(_ payload: [UInt8]) throws(Errno) -> Outcome {
    var reader = WireReader(payload)
    let access = try RegionAccess(from: &reader)
    guard reader.remaining == Int(access.count) else { throw .invalidArgument }
    try checkAccess(access, write: true)
    try typedThrows {
      try payload.withUnsafeBytes { raw in
        try device.writeRegion(
          Int(access.region), offset: access.offset,
          from: UnsafeRawBufferPointer(rebasing: raw[RegionAccess.size...]))
      }
    }
    return .payload(access.encoded)
  }

  private func regionWriteMulti(_ payload: [UInt8], negotiated: Negotiated) throws(Errno)
    -> Outcome
  {
    guard negotiated.writeMultiple else { throw .notSupported }
    var reader = WireReader(payload)
    let count: UInt64 = try reader.read()
    guard count <= UInt64(RegionWriteOne.maxEntries),
      reader.remaining == Int(count) * RegionWriteOne.size
    else { throw .invalidArgument }
    var entries: [RegionWriteOne] = []
    for _ in 0..<count {
      let entry = try RegionWriteOne(from: &reader)
      try checkAccess(entry.access, write: true)
      entries.append(entry)
    }
    // All validated first, then applied in order.
    for entry in entries {
      try typedThrows {
        try entry.data.withUnsafeBytes { raw in
          try device.writeRegion(Int(entry.access.region), offset: entry.access.offset, from: raw)
        }
      }
    }
    var writer = WireWriter()
    writer.write(count)
    return .payload(writer.bytes)
  }
}
