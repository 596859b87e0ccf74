import Foundation
import Glibc

/// A fresh directory (mkdtemp), removed with everything in it at deinit.
public final class TemporaryDirectory {
  public struct CreationFailed: Error, CustomStringConvertible {
    public var description: String
  }

  public let path: String

  /// `base/nvme-vfu-LABEL-XXXXXX`.
  public init(_ label: String, under base: String = "/tmp") throws {
    var template = Array("\(base)/nvme-vfu-\(label)-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
      throw CreationFailed(
        description: "mkdtemp under \(base): \(String(cString: strerror(errno)))")
    }
    path = String(cString: made)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  public func file(_ name: String) -> String { "\(path)/\(name)" }
}
