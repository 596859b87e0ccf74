import FoundationEssentials
import Glibc
import POSIX

/// The capabilities object of VFIO_USER_VERSION, as one side states it.
public struct Capabilities: Equatable, Sendable {
  /// Descriptors the sender can receive in one message (spec default 1).
  public var maxMessageFDs: UInt32 = 1
  /// Largest `count` of a DMA/REGION read or write the sender accepts (spec default 1 MiB).
  public var maxDataTransferSize: UInt32 = 1 << 20
  /// Page sizes for DMA maps, OR'ed (spec default 4 KiB).
  public var pageSizes: UInt64 = 4096
  /// Mappings that may exist at once (spec default 65535).
  public var maxDMAMaps: UInt32 = 65535
  public var writeMultiple = false
  /// The peer sent a migration object; it is accepted and otherwise ignored.
  public var migration = false

  public init() {}

  /// Upper bounds this implementation accepts from a peer, so one number cannot make it
  /// allocate or loop without limit. QEMU itself refuses replies beyond 16 fds / 64 MiB.
  public static let maxAcceptedFDs: UInt32 = 1024
  public static let maxAcceptedTransferSize: UInt64 = 64 << 20
  public static let maxAcceptedDMAMaps: UInt64 = 1 << 20
  /// A version payload's JSON longer than this is refused before parsing.
  public static let maxJSONLength = 4096
}

/// Encoding and strict decoding of the version JSON (NUL-terminated UTF-8).
public enum CapabilitiesJSON {
  private struct Document: Codable {
    var capabilities: Fields?
  }

  // Swift names for the spec's JSON keys (vfio-user.rst, Version).
  private struct Fields: Codable {
    var maxMessageFDs: UInt64?
    var maxDataTransferSize: UInt64?
    var pageSizes: UInt64?
    var maxDMAMaps: UInt64?
    var writeMultiple: Bool?
    var migration: Migration?

    enum CodingKeys: String, CodingKey {
      case maxMessageFDs = "max_msg_fds"
      case maxDataTransferSize = "max_data_xfer_size"
      case pageSizes = "pgsizes"
      case maxDMAMaps = "max_dma_maps"
      case writeMultiple = "write_multiple"
      case migration
    }
  }

  private struct Migration: Codable {
    var pageSize: UInt64?
    var maxBitmapSize: UInt64?

    enum CodingKeys: String, CodingKey {
      case pageSize = "pgsize"
      case maxBitmapSize = "max_bitmap_size"
    }
  }

  /// Parses `bytes` (the version payload after major/minor). Empty means "all defaults".
  /// Refuses: a missing NUL terminator, bytes after it, non-UTF-8, non-object JSON, fields
  /// of the wrong type, and values outside the ranges above.
  public static func decode(_ bytes: ArraySlice<UInt8>) throws(Errno) -> Capabilities {
    var caps = Capabilities()
    if bytes.isEmpty { return caps }
    guard bytes.count <= Capabilities.maxJSONLength else { throw .tooBig }
    guard bytes.last == 0, let nul = bytes.firstIndex(of: 0),
      nul == bytes.index(before: bytes.endIndex)
    else { throw .invalidArgument }
    let text = Data(bytes[bytes.startIndex..<nul])
    let document: Document
    do {
      document = try JSONDecoder().decode(Document.self, from: text)
    } catch {
      throw .invalidArgument
    }
    guard let fields = document.capabilities else { return caps }
    if let value = fields.maxMessageFDs {
      guard value <= Capabilities.maxAcceptedFDs else { throw .invalidArgument }
      caps.maxMessageFDs = UInt32(value)
    }
    if let value = fields.maxDataTransferSize {
      guard value > 0, value <= Capabilities.maxAcceptedTransferSize else { throw .invalidArgument }
      caps.maxDataTransferSize = UInt32(value)
    }
    if let value = fields.pageSizes {
      guard value != 0 else { throw .invalidArgument }
      caps.pageSizes = value
    }
    if let value = fields.maxDMAMaps {
      guard value > 0, value <= Capabilities.maxAcceptedDMAMaps else { throw .invalidArgument }
      caps.maxDMAMaps = UInt32(value)
    }
    caps.writeMultiple = fields.writeMultiple ?? false
    caps.migration = fields.migration != nil
    return caps
  }

  /// The JSON for `caps`, NUL-terminated. Migration is never offered.
  public static func encode(_ caps: Capabilities) -> [UInt8] {
    let fields = Fields(
      maxMessageFDs: UInt64(caps.maxMessageFDs),
      maxDataTransferSize: UInt64(caps.maxDataTransferSize),
      pageSizes: caps.pageSizes, maxDMAMaps: UInt64(caps.maxDMAMaps),
      writeMultiple: caps.writeMultiple, migration: nil)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding plain integers and bools cannot fail; an empty object is the safe fallback.
    let data = (try? encoder.encode(Document(capabilities: fields))) ?? Data("{}".utf8)
    return Array(data) + [0]
  }
}

extension Capabilities: CustomStringConvertible {
  /// For the log: the spec's JSON names, not Swift's debug dump.
  public var description: String {
    "max_msg_fds=\(maxMessageFDs) max_data_xfer_size=\(maxDataTransferSize)"
      + " pgsizes=0x\(String(pageSizes, radix: 16)) max_dma_maps=\(maxDMAMaps)"
      + " write_multiple=\(writeMultiple) migration=\(migration)"
  }
}
