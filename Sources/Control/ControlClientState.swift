import POSIX

/// One control connection as the control thread sees it: bytes read but not
/// yet a whole line, and reply bytes not yet sent.
final class ControlClientState {
  let socket: FileDescriptor
  var input: [UInt8] = []
  var output: [UInt8] = []
  /// The peer closed its side: answer what is complete, then drop it.
  var readClosed = false
  /// Sent its last reply (or broke a rule): drop once `output` is sent.
  var closing = false

  init(socket: FileDescriptor) { self.socket = socket }

  /// The next complete line without its newline, removed from `input`.
  func takeLine() -> ArraySlice<UInt8>? {
    guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
    let line = input[..<newline]
    input.removeSubrange(...newline)
    return line
  }

  var finished: Bool { (closing || readClosed) && output.isEmpty && !hasLine }

  var hasLine: Bool { !closing && input.contains(UInt8(ascii: "\n")) }
}
