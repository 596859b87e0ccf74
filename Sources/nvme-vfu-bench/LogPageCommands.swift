import ArgumentParser
import BenchKit
import NVMeHostDriver

/// `nvme-vfu-bench smart-log`: the SMART / Health Information log (02h).
struct SmartLogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "smart-log",
    abstract: "Print the SMART / Health Information log (Get Log Page 02h), as nvme smart-log.")

  @Option(help: "The server's UNIX socket.")
  var socket: String

  func run() throws {
    let page = LogPageReader.read(socket: socket) { host in try host.logPage(0x02, bytes: 512) }
    print(LogPageReport.smart(page))
  }
}

/// `nvme-vfu-bench error-log`: the Error Information log (01h).
struct ErrorLogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "error-log",
    abstract: "Print the Error Information log (Get Log Page 01h), as nvme error-log.")

  @Option(help: "The server's UNIX socket.")
  var socket: String

  func run() throws {
    let page = LogPageReader.read(socket: socket) { host in
      // ELPE + 1 entries of 64 bytes, as many as fit one page.
      let entries = min(Int(host.controllerData?.elpe ?? 0) + 1, 64)
      return try host.logPage(0x01, bytes: entries * 64)
    }
    print(LogPageReport.errors(page))
  }
}

/// Connects like `identify`, reads one page, resets the controller; an
/// error is one line and exit 1.
enum LogPageReader {
  static func read(socket: String, _ body: (NVMeHost) throws -> [UInt8]) -> [UInt8] {
    do {
      var configuration = NVMeHost.Configuration()
      configuration.ramSize = 1 << 20
      let host = try attachHost(path: socket, configuration: configuration)
      let page = try body(host)
      _ = try? host.resetController()
      return page
    } catch {
      fail("\(error)", code: 1)
    }
  }
}
