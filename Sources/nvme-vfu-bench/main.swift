import ArgumentParser
import BuildInfo
import CommandLineTool

/// `nvme-vfu-bench`: drives a running nvme-vfu-server with the in-process
/// host driver (`NVMeHostDriver.NVMeHost`), the way fio drives a disk.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nvme-vfu-bench",
    abstract: "Benchmark and inspect an nvme-vfu-server over its vfio-user socket.",
    version: BuildInfo.versionLine,
    subcommands: [
      PerfCommand.self, IdentifyCommand.self, SmartLogCommand.self, ErrorLogCommand.self,
      IdleCommand.self,
    ])
}

BenchCommand.mainWithOneLineErrors()
