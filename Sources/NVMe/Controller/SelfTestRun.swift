/// A device self-test in progress: the namespaces it reads and how far it got.
///
/// The media check reads each namespace in scope in chunks, one chunk in
/// flight at a time, so guest I/O on the same backend is never queued behind
/// more than one self-test read. A short test reads the first
/// `shortTestBytes` of each namespace (it must end within two minutes, Base
/// 2.0 8.11.1); an extended test reads all of it.
struct SelfTestRun {
  static let chunkBytes = 128 * 1024
  static let shortTestBytes: UInt64 = 256 << 20

  struct Span {
    var namespaceIndex: Int
    var namespaceID: UInt32
    var length: UInt64
  }

  let code: DeviceSelfTestLog.Code
  private(set) var spans: [Span]
  let totalBytes: UInt64
  /// Position: span, and byte offset in it.
  private(set) var spanIndex = 0
  private(set) var offset: UInt64 = 0
  private(set) var bytesDone: UInt64 = 0
  /// A chunk of this run is with the backend.
  var awaitingChunk = false

  init(code: DeviceSelfTestLog.Code, spans: [Span]) {
    self.code = code
    self.spans = spans
    totalBytes = spans.reduce(0) { $0 &+ $1.length }
    skipEmptySpans()
  }

  /// Namespace positions moved (hot-add or removal): re-point each span.
  mutating func remapIndexes(_ position: (UInt32) -> Int?) {
    for i in spans.indices {
      if let index = position(spans[i].namespaceID) { spans[i].namespaceIndex = index }
    }
  }

  var isFinished: Bool { spanIndex >= spans.count }

  var percentComplete: UInt8 {
    guard totalBytes > 0 else { return 100 }
    return UInt8(clamping: bytesDone.multipliedReportingOverflow(by: 100).partialValue / totalBytes)
  }

  /// The next chunk to read, nil when finished.
  var nextChunk: (span: Span, offset: UInt64, length: UInt64)? {
    guard !isFinished else { return nil }
    let span = spans[spanIndex]
    return (span, offset, min(UInt64(Self.chunkBytes), span.length - offset))
  }

  /// The chunk `nextChunk` named has been read.
  mutating func chunkDone() {
    guard let chunk = nextChunk else { return }
    offset &+= chunk.length
    bytesDone &+= chunk.length
    if offset >= chunk.span.length {
      spanIndex &+= 1
      offset = 0
      skipEmptySpans()
    }
  }

  private mutating func skipEmptySpans() {
    while spanIndex < spans.count, spans[spanIndex].length == 0 { spanIndex &+= 1 }
  }
}
