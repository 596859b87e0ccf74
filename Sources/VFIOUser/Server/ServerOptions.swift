import POSIX

/// What the server offers and enforces.
public struct ServerOptions: Sendable {
  /// Sent in the VERSION reply (after min'ing with the client's) and enforced on input.
  /// Defaults pass QEMU's checks: <= 16 fds, <= 64 MiB transfers, <= 65535 maps.
  public var capabilities: Capabilities
  /// DMA_READ/DMA_WRITE layout for fd-less memory; QEMU's by default (see DMAMessageLayout).
  public var dmaLayout: DMAMessageLayout = .spec
  /// How long to wait for the client's reply to a DMA_READ/DMA_WRITE.
  public var replyTimeoutMilliseconds: Int32 = 5000
  /// How deep DMA-by-message waits may nest while serving the client's own requests.
  public var maxNestedDMA = 4
  /// The most data one DMA_READ or DMA_WRITE moves, below the client's
  /// max_data_xfer_size. QEMU 11.1 sends a DMA_READ reply from its main loop;
  /// when the reply does not fit the socket buffer (about 208 KiB by default)
  /// the rest is left to its I/O thread, and 1 time in 3 it never came (a
  /// guest writing with dd stalled for the 5 s timeout, then lost the device).
  /// Replies well under the socket buffer go out in one write.
  public var maxRemoteDMAChunk = 64 << 10
  /// How long a client that connects while another is served waits before it is
  /// refused: long enough for a VMM that reconnects to find the old connection gone.
  public var secondClientGraceNanoseconds: UInt64 = 2_000_000_000
  /// Clients that may wait at once; more are refused at once.
  public var maxWaitingClients = 4
  /// Which peers may connect (SO_PEERCRED); one that may not is closed before it
  /// reads a byte. The server's command line allows its own uid and root.
  public var peerPolicy = PeerPolicy.anyone

  public init() {
    var caps = Capabilities()
    caps.maxMessageFDs = 16
    caps.maxDataTransferSize = 1 << 20
    caps.pageSizes = 4096
    caps.maxDMAMaps = 65535
    caps.writeMultiple = true
    capabilities = caps
  }

  /// The largest message the client may send: a full-size REGION_WRITE.
  public var maxIncomingMessageSize: Int {
    MessageHeader.size + RegionAccess.size + Int(capabilities.maxDataTransferSize)
  }
}
