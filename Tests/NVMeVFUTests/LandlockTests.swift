import Control
import Foundation
import Glibc
import Sandbox
import TestSupport
import Testing

/// Landlock, on by default with the sandbox: once serving, the server reaches only its
/// sockets' directories, the metrics file's and --image-dir. A symlink inside an image
/// directory that leads out of it is the probe: the lexical --image-dir check lets it
/// through, so only the kernel refuses it.
@Suite struct LandlockTests {
  struct Fixture {
    let scratch: TemporaryDirectory
    let server: ServerProcess
    let control: ControlClient
    var images: String { scratch.file("images") }
    var outside: String { scratch.file("outside") }

    init(_ name: String, arguments: [String] = []) throws {
      scratch = try TemporaryDirectory(name)
      let images = scratch.file("images")
      let outside = scratch.file("outside")
      try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
      try FileManager.default.createSymbolicLink(
        atPath: "\(images)/escape", withDestinationPath: outside)
      server = try ServerProcess(
        in: scratch, backings: ["mem:8M"],
        arguments: [
          "--control", scratch.file("nvme.ctl"), "--image-dir", images,
          "--metrics-file", scratch.file("metrics.prom"), "--metrics-interval", "1",
        ] + arguments)
      control = try ControlClient(path: scratch.file("nvme.ctl"))
    }

    /// namespace_add's error message, or nil when it added the namespace.
    func refusal(adding path: String) -> String? {
      do {
        _ = try control.call("namespace_add", ["backing": .string(path), "size": "4M"])
        return nil
      } catch {
        return error.message
      }
    }
  }

  static var kernelHasLandlock: Bool {
    if case .success = LandlockPolicy.abi() { return true }
    return false
  }

  @Test func aSymlinkOutOfTheImageDirectoryIsRefusedByTheKernel() throws {
    let fixture = try Fixture("landlock-on")
    guard Self.kernelHasLandlock else {
      #expect(fixture.server.log.contains("files are limited only by the user's permissions"))
      return
    }
    #expect(fixture.server.log.contains("sandbox: Landlock ABI"))
    #expect(fixture.refusal(adding: "\(fixture.images)/inside.img") == nil)
    let escaped = fixture.refusal(adding: "\(fixture.images)/escape/escaped.img")
    #expect(escaped?.contains("Permission denied") == true, "\(escaped ?? "added")")
    #expect(!FileManager.default.fileExists(atPath: "\(fixture.outside)/escaped.img"))
    // Still serving, and what it may touch still works: the metrics file is
    // rewritten, and both sockets are unlinked at a clean stop.
    let metrics = fixture.scratch.file("metrics.prom")
    try? FileManager.default.removeItem(atPath: metrics)
    let deadline = Date().addingTimeInterval(10)
    while !FileManager.default.fileExists(atPath: metrics), Date() < deadline { usleep(50_000) }
    #expect(FileManager.default.fileExists(atPath: metrics))
    #expect(fixture.server.terminate() == .exited(0), "\(fixture.server.log)")
    #expect(!FileManager.default.fileExists(atPath: fixture.server.socket))
    #expect(!FileManager.default.fileExists(atPath: fixture.scratch.file("nvme.ctl")))
  }

  /// The same symlink with the sandbox off is followed: the refusal above was Landlock's.
  @Test func withTheSandboxOffTheSymlinkIsFollowed() throws {
    let fixture = try Fixture("landlock-off", arguments: ["--sandbox", "off"])
    #expect(fixture.refusal(adding: "\(fixture.images)/escape/escaped.img") == nil)
    #expect(FileManager.default.fileExists(atPath: "\(fixture.outside)/escaped.img"))
  }

  /// The lexical check, which holds with or without the kernel's help.
  @Test func pathsOutsideEveryImageDirectoryAreRefusedWithAReason() throws {
    let fixture = try Fixture("landlock-paths")
    let outside = fixture.refusal(adding: "\(fixture.outside)/x.img")
    #expect(outside?.contains("is not under an --image-dir") == true, "\(outside ?? "added")")
    let dotdot = fixture.refusal(adding: "\(fixture.images)/../outside/x.img")
    #expect(dotdot?.contains("'..'") == true, "\(dotdot ?? "added")")
    #expect(fixture.refusal(adding: "mem:4M") == nil)
  }

  @Test func withoutAnImageDirectoryNamespaceAddTakesNoFiles() throws {
    let scratch = try TemporaryDirectory("landlock-none")
    let server = try ServerProcess(
      in: scratch, backings: ["mem:8M"], arguments: ["--control", scratch.file("nvme.ctl")])
    let control = try ControlClient(path: scratch.file("nvme.ctl"))
    do {
      _ = try control.call("namespace_add", ["backing": .string(scratch.file("a.img"))])
      Issue.record("a file was added with no --image-dir")
    } catch {
      #expect(error.message.contains("only under an --image-dir"), "\(error.message)")
    }
  }

  @Test func aMissingImageDirectoryIsAStartError() throws {
    let scratch = try TemporaryDirectory("landlock-missing")
    let server = try ChildProcess(
      try BuiltBinaries.path("nvme-vfu-server"),
      [
        "--socket", scratch.file("nvme.sock"), "--backing", "mem:8M", "--image-dir",
        scratch.file("nowhere"),
      ], output: .file(scratch.file("log")))
    #expect(server.waitForExit(timeoutSeconds: 20) == .exited(1))
    let log = (try? String(contentsOfFile: scratch.file("log"), encoding: .utf8)) ?? ""
    #expect(log.contains("--image-dir \(scratch.file("nowhere")): No such file or directory"))
  }
}
