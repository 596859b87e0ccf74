/// Turns a command's PRP1/PRP2 into guest data segments (NVMe Base 2.0,
/// section 4.1.1 "Physical Region Page Entry and List").
///
/// Rules enforced:
/// - PRP1 may carry a page offset, which must be dword aligned.
/// - If the rest of the transfer fits in one more page, PRP2 is that page's
///   address and must have no offset.
/// - Otherwise PRP2 points to a PRP list (dword-aligned offset allowed). Every
///   list entry describing data must be page aligned; when more entries are
///   needed than a list page holds, its last slot points to the next list page.
/// Any offset violation is PRP Offset Invalid; an unreadable list is Data
/// Transfer Error; a transfer above the MDTS limit is Invalid Field.
public enum PRPList {
  /// Page size for CC.MPS (2^(12 + MPS)); nil past the 4-bit field.
  public static func pageSize(mps: UInt8) -> Int? {
    guard mps <= 15 else { return nil }
    return 1 << (12 &+ Int(mps))
  }

  /// The segments of a transfer that needs no PRP list, inline: none
  /// (length 0), PRP1's, or PRP1's and PRP2's page (one segment when PRP2
  /// continues PRP1 exactly).
  public struct ShortSegments: Sendable, Hashable {
    public var count = 0
    public var first = DataSegment(address: 0, length: 0)
    public var second = DataSegment(address: 0, length: 0)

    public var array: [DataSegment] {
      switch count {
      case 0: []
      case 1: [first]
      default: [first, second]
      }
    }
  }

  /// The segments of a `length`-byte transfer when PRP1 and PRP2 describe it
  /// without a PRP list (at most two pages), without allocating; nil when a
  /// list is needed (`segments` then walks it). Throws exactly what
  /// `segments` throws for the same command.
  public static func shortSegments(
    prp1: UInt64, prp2: UInt64, length: Int, pageSize: Int, maxTransferLength: Int
  ) throws(NVMeStatus) -> ShortSegments? {
    // A bad page size is our bug, not the guest's.
    guard pageSize >= 4096, pageSize <= 1 << 27, pageSize & (pageSize &- 1) == 0 else {
      throw .internalError
    }
    guard length >= 0, length <= maxTransferLength else { throw .invalidField }
    var result = ShortSegments()
    guard length > 0 else { return result }

    let mask = UInt64(pageSize &- 1)
    guard prp1 & 0x3 == 0 else { throw .prpOffsetInvalid }
    let first = min(length, pageSize &- Int(prp1 & mask))
    // A range may not wrap past the top of the address space (as
    // DataSegmentBuilder.append checks).
    guard !prp1.addingReportingOverflow(UInt64(first) &- 1).overflow else {
      throw .dataTransferError
    }
    result.count = 1
    result.first = DataSegment(address: prp1, length: first)
    let remaining = length &- first
    guard remaining > 0 else { return result }
    guard remaining <= pageSize else { return nil }  // a PRP list

    guard prp2 & mask == 0 else { throw .prpOffsetInvalid }
    guard !prp2.addingReportingOverflow(UInt64(remaining) &- 1).overflow else {
      throw .dataTransferError
    }
    if prp1 &+ UInt64(first) == prp2 {
      result.first.length = first &+ remaining  // contiguous: one segment
    } else {
      result.count = 2
      result.second = DataSegment(address: prp2, length: remaining)
    }
    return result
  }

  /// The guest segments of a `length`-byte transfer. Contiguous pages are
  /// merged. `memory` is only used to read PRP list pages. Pass `Int.max` as
  /// `maxTransferLength` when MDTS is 0 (no limit).
  public static func segments(
    prp1: UInt64, prp2: UInt64, length: Int, pageSize: Int, maxTransferLength: Int,
    memory: some GuestMemory
  ) throws(NVMeStatus) -> [DataSegment] {
    if let short = try shortSegments(
      prp1: prp1, prp2: prp2, length: length, pageSize: pageSize,
      maxTransferLength: maxTransferLength)
    {
      return short.array
    }
    // More than two pages: PRP1's piece, then the list at PRP2 (the checks
    // above passed, so PRP1 is valid and the length positive).
    let mask = UInt64(pageSize &- 1)
    var builder = DataSegmentBuilder()
    let first = min(length, pageSize &- Int(prp1 & mask))
    try builder.append(address: prp1, length: first)
    var remaining = length &- first

    // Pages still needed, without `remaining + pageSize` (which could overflow).
    let pagesNeeded = remaining / pageSize &+ (remaining % pageSize == 0 ? 0 : 1)
    guard prp2 & 0x3 == 0 else { throw .prpOffsetInvalid }
    var listAddress = prp2
    var entriesLeft = pagesNeeded
    // Every list page yields at least one data entry, except a page whose
    // pointer offset leaves room for only the chain slot. Allow one such page
    // (PRP2 at a page's last qword); more is a malformed list. This bound is
    // what stops a list that chains into itself with no progress.
    var listPagesLeft = pagesNeeded &+ 1
    while entriesLeft > 0 {
      guard listPagesLeft > 0 else { throw .prpOffsetInvalid }
      listPagesLeft &-= 1
      let slots = (pageSize &- Int(listAddress & mask)) / 8
      guard slots > 0 else { throw .prpOffsetInvalid }
      let chains = entriesLeft > slots
      let dataSlots = chains ? slots &- 1 : entriesLeft
      let entries = try readEntries(
        at: listAddress, count: chains ? slots : entriesLeft, memory: memory)
      for index in 0..<dataSlots {
        let entry = entries[index]
        guard entry & mask == 0 else { throw .prpOffsetInvalid }
        let pieceLength = min(remaining, pageSize)
        try builder.append(address: entry, length: pieceLength)
        remaining &-= pieceLength
      }
      entriesLeft &-= dataSlots
      if chains {
        let next = entries[slots &- 1]
        guard next & 0x3 == 0 else { throw .prpOffsetInvalid }
        listAddress = next
      }
    }
    return builder.segments
  }

  /// Reads `count` little-endian PRP entries (one guest read, then only the copy).
  private static func readEntries(
    at address: UInt64, count: Int, memory: some GuestMemory
  ) throws(NVMeStatus) -> [UInt64] {
    var entries = [UInt64](repeating: 0, count: count)
    do {
      try entries.withUnsafeMutableBytes { try memory.read(address, into: $0) }
    } catch {
      throw .dataTransferError
    }
    for index in entries.indices { entries[index] = UInt64(littleEndian: entries[index]) }
    return entries
  }
}
