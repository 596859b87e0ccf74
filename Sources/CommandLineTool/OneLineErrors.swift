import ArgumentParser
import Glibc

extension ParsableCommand {
  /// `main()`, with every error one line on stderr: "NAME: what is wrong". A command
  /// line the parser or `validate()` refuses exits 64 (EX_USAGE) and adds where the
  /// options are listed; an error from `run()` exits with its own code (1 unless it is
  /// an `ExitCode`). `--help` and `--version` print as usual, to stdout, exit 0.
  public static func mainWithOneLineErrors(_ arguments: [String]? = nil) -> Never {
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      Glibc.exit(0)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Glibc.exit(0)
      }
      let text = oneLine(message(for: error))
      // An ExitCode that run() threw says the command reported its error itself.
      if !text.isEmpty {
        let name = configuration.commandName ?? "command"
        let hint = code == .validationFailure ? " (see \(name) --help)" : ""
        let line = "\(name): \(text)\(hint)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
      }
      Glibc.exit(code.rawValue)
    }
  }

  /// The parser's message without its "Error: ", and without the lines it adds after
  /// (an option's help, the usage), which `--help` shows.
  static func oneLine(_ message: String) -> String {
    let first = message.split(separator: "\n").first { !$0.allSatisfy(\.isWhitespace) } ?? ""
    return String(first.hasPrefix("Error: ") ? first.dropFirst("Error: ".count) : first)
  }
}
