import ArgumentParser
import BuildInfo
import CommandLineTool
import Control
import FoundationEssentials
import Glibc

/// `nvme-vfu-ctl`: calls one method on a server's control socket and prints
/// the reply, as SPDK's rpc.py does for its targets.
struct ControlCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nvme-vfu-ctl",
    abstract: "Call a method on nvme-vfu-server's control socket (JSON-RPC 2.0).",
    discussion: """
      Methods: get_stats, get_config, set_log_level --level L,
        namespace_add --backing SPEC [--size S] [--readonly true] [--block-size N],
        namespace_remove --nsid N, namespace_resize --nsid N --size S [--force true],
        set_qos --nsid N [--iops N] [--bytes-per-second S], get_qos [--nsid N].
      Parameters are --key value pairs; dashes in keys become underscores, and
      integers and true/false are sent as JSON numbers and booleans.
      Prints the result as JSON (or a table with --human); an error is one line
      on stderr and exit status 1.
      """,
    version: BuildInfo.versionLine)

  @Option(help: "The server's control socket (its --control).")
  var control: String

  @Flag(help: "A table instead of JSON.")
  var human = false

  @Argument(help: "The method to call.")
  var method: String

  @Argument(parsing: .allUnrecognized, help: "Parameters: --key value ...")
  var parameters: [String] = []

  func run() throws {
    let params: [String: JSONValue]
    do {
      params = try Self.parse(parameters)
    } catch {
      Self.fail(error.description)
    }
    let client: ControlClient
    do {
      client = try ControlClient(path: control)
    } catch {
      Self.fail("\(control): \(error.text)")
    }
    defer { client.close() }
    do {
      let result = try client.call(method, params)
      print(human ? HumanOutput.render(result) : result.serialized(pretty: true))
    } catch {
      Self.fail(error.message)
    }
  }

  struct ParameterError: Error, CustomStringConvertible {
    var description: String
  }

  /// `--key value` pairs into JSON params.
  static func parse(_ words: [String]) throws(ParameterError) -> [String: JSONValue] {
    var params: [String: JSONValue] = [:]
    var index = 0
    while index < words.count {
      let word = words[index]
      guard word.hasPrefix("--"), word.count > 2 else {
        throw ParameterError(description: "expected --key value, got \"\(word)\"")
      }
      var key = String(word.dropFirst(2))
      var value: String
      if let equals = key.firstIndex(of: "=") {
        value = String(key[key.index(after: equals)...])
        key = String(key[..<equals])
        index += 1
      } else {
        guard index + 1 < words.count else {
          throw ParameterError(description: "--\(key) needs a value")
        }
        value = words[index + 1]
        index += 2
      }
      key = String(key.map { $0 == "-" ? "_" : $0 })
      if value == "true" || value == "false" {
        params[key] = .bool(value == "true")
      } else if let number = UInt64(value) {
        params[key] = .unsigned(number)
      } else {
        params[key] = .string(value)
      }
    }
    return params
  }

  static func fail(_ message: String) -> Never {
    let line = "nvme-vfu-ctl: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    Glibc.exit(1)
  }
}

ControlCommand.mainWithOneLineErrors()
