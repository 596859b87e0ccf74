// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
  name: "nvme-vfu",
  products: [
    .executable(name: "nvme-vfu-server", targets: ["nvme-vfu-server"]),
    .executable(name: "nvme-vfu-bench", targets: ["nvme-vfu-bench"]),
    .executable(name: "nvme-vfu-ctl", targets: ["nvme-vfu-ctl"]),
    .library(name: "POSIX", targets: ["POSIX"]),
    .library(name: "VFIOUser", targets: ["VFIOUser"]),
    .library(name: "PCI", targets: ["PCI"]),
    .library(name: "VFIOUserClient", targets: ["VFIOUserClient"]),
    .library(name: "NVMeHostDriver", targets: ["NVMeHostDriver"]),
    .library(name: "NVMe", targets: ["NVMe"]),
    .library(name: "BackendContract", targets: ["BackendContract"]),
    .library(name: "BlockIO", targets: ["BlockIO"]),
    .library(name: "NVMeVFU", targets: ["NVMeVFU"]),
    .library(name: "Control", targets: ["Control"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
  ],
  targets: [
    // The version and the git commit every executable's --version prints; the plugin
    // writes the commit at build time.
    .plugin(
      name: "BuildInfoPlugin", capability: .buildTool(), path: "Sources/BuildInfoPlugin"),
    .target(name: "BuildInfo", swiftSettings: strict, plugins: ["BuildInfoPlugin"]),
    // What every executable's command line shares: errors as one line, exit 64 for usage.
    .target(
      name: "CommandLineTool",
      dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: strict),
    // What Swift cannot call directly: CMSG_* macros, memfd_create, eventfd, ppoll,
    // signalfd, acquire/release atomics, prefetch, thread pinning, the SIGBUS guard.
    .target(name: "CShims"),
    // The one place system calls are wrapped: owned descriptors, Errno, EINTR retry,
    // the monotonic clock, eventfd, poll sets, mmap, AF_UNIX sockets, thread pinning.
    .target(name: "POSIX", dependencies: ["CShims"], swiftSettings: strict),
    .target(
      name: "VFIOUser",
      dependencies: ["POSIX", "CShims", .product(name: "Logging", package: "swift-log")],
      swiftSettings: strict),
    .target(name: "PCI", swiftSettings: strict),
    // What a namespace's store must do, apart from how any store does it.
    .target(name: "BackendContract", swiftSettings: strict),
    .target(
      name: "NVMe",
      dependencies: [
        "BackendContract", "POSIX", "CShims", .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    // libaio, from Debian's libaio-dev.
    .systemLibrary(name: "CLibAIO", providers: [.apt(["libaio-dev"])]),
    // liburing, from Debian's liburing-dev, behind plain C functions (its own
    // helpers are inline over C11 atomics): the io_uring engine.
    .target(name: "CURing", linkerSettings: [.linkedLibrary("uring")]),
    // librbd and librados, from Debian's librbd-dev: the Ceph RBD backend.
    .systemLibrary(name: "CRBD", providers: [.apt(["librbd-dev"])]),
    // libseccomp, from Debian's libseccomp-dev: the serving state's syscall allowlist.
    .systemLibrary(name: "CSeccomp", providers: [.apt(["libseccomp-dev"])]),
    // Confinement once set-up is done: Landlock and seccomp (README, Security).
    .target(
      name: "Sandbox", dependencies: ["CSeccomp", "CShims", "POSIX"], swiftSettings: strict),
    .target(
      name: "BlockIO",
      dependencies: ["BackendContract", "CLibAIO", "CURing", "CRBD", "POSIX", "CShims"],
      swiftSettings: strict),
    // The vfio-user protocol client: messages, guest RAM, interrupt vectors.
    .target(name: "VFIOUserClient", dependencies: ["VFIOUser", "POSIX"], swiftSettings: strict),
    // An NVMe host driver (admin and I/O queues, doorbells) over that client.
    .target(
      name: "NVMeHostDriver",
      dependencies: ["VFIOUserClient", "VFIOUser", "NVMe", "POSIX", "CShims"],
      swiftSettings: strict),
    // The control socket: JSON-RPC 2.0 over a UNIX socket, on a thread of its own.
    .target(name: "Control", dependencies: ["POSIX"], swiftSettings: strict),
    // The server: an NVMe device on a vfio-user endpoint, driven by a reactor.
    .target(
      name: "NVMeVFU",
      dependencies: [
        "VFIOUser", "PCI", "NVMe", "BackendContract", "BlockIO", "POSIX", "CShims", "Control",
        "Sandbox", .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    .executableTarget(
      name: "nvme-vfu-server",
      dependencies: [
        "NVMeVFU", "BlockIO", "VFIOUser", "POSIX", "BuildInfo", "CommandLineTool",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      // What install.sh installs beside the binaries, not resources of them: the
      // backend-program description the vfio-user spec asks for, the systemd units.
      exclude: ["50-nvme-vfu.json", "systemd", "install.sh"],
      swiftSettings: strict),
    // The control socket's client, in the role of SPDK's rpc.py.
    .executableTarget(
      name: "nvme-vfu-ctl",
      dependencies: [
        "Control", "BuildInfo", "CommandLineTool",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),
    // The benchmark's engine: workloads, the closed loop, verify, pacing, reports.
    .target(
      name: "BenchKit",
      dependencies: [
        "NVMeHostDriver", "VFIOUserClient", "NVMe", "POSIX", "Control",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      swiftSettings: strict),
    // The benchmark: the in-process host driver against a running server.
    .executableTarget(
      name: "nvme-vfu-bench",
      dependencies: [
        "BenchKit", "NVMeHostDriver", "NVMe", "POSIX", "CShims", "BuildInfo", "CommandLineTool",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),
    // The client the fault tests kill (SIGKILL) with I/O in flight: a
    // process of its own, so the kernel tears its end down.
    .executableTarget(
      name: "nvme-vfu-fault-client",
      dependencies: ["NVMeHostDriver", "VFIOUserClient", "NVMe", "POSIX"],
      path: "Tests/FaultClient", swiftSettings: strict),
    .testTarget(
      name: "VFIOUserTests",
      dependencies: ["VFIOUser", "VFIOUserClient", "POSIX", "CShims", "TestSupport"],
      swiftSettings: strict),
    // What several test targets share, written once.
    .target(
      name: "TestSupport", dependencies: ["NVMe", "BackendContract", "BlockIO", "POSIX"],
      path: "Tests/TestSupport",
      swiftSettings: strict),
    .testTarget(name: "PCITests", dependencies: ["PCI", "TestSupport"], swiftSettings: strict),
    .testTarget(
      name: "BenchKitTests",
      dependencies: [
        "BenchKit", "NVMe", .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      swiftSettings: strict),
    .testTarget(
      name: "NVMeTests",
      dependencies: ["NVMe", "BackendContract", "BlockIO", "POSIX", "TestSupport"],
      swiftSettings: strict),
    .testTarget(
      name: "ControlTests", dependencies: ["Control", "NVMe", "POSIX"], swiftSettings: strict),
    .testTarget(
      name: "BlockIOTests", dependencies: ["BackendContract", "BlockIO", "POSIX", "TestSupport"],
      swiftSettings: strict),
    // Fuzzing (README "Fuzzing"): the harnesses, one per target, shared by the
    // libFuzzer binary (built with sanitizers by Tests/Fuzz/run.sh only) and the
    // replay tests, which run every seed and every saved finding under `swift test`.
    .target(
      name: "FuzzHarness",
      dependencies: [
        "NVMeVFU", "VFIOUser", "NVMe", "BackendContract", "BlockIO", "POSIX", "CShims",
        "TestSupport",
      ],
      path: "Tests/Fuzz/Harness", swiftSettings: strict),
    // With -DFUZZING (run.sh) libFuzzer's main drives it; otherwise a replay and
    // seed-writing tool.
    .executableTarget(
      name: "nvme-vfu-fuzz", dependencies: ["FuzzHarness"], path: "Tests/Fuzz/Runner",
      swiftSettings: strict),
    .testTarget(
      name: "FuzzRegressionTests", dependencies: ["FuzzHarness"], swiftSettings: strict),
    // The server in-process with the host driver: end to end over a socket.
    // Faults/ also runs the built nvme-vfu-server and nvme-vfu-fault-client
    // binaries as processes (SIGKILL of either, backing-file faults).
    .testTarget(
      name: "NVMeVFUTests",
      dependencies: [
        "NVMeVFU", "NVMeHostDriver", "VFIOUserClient", "NVMe", "BackendContract", "BlockIO",
        "VFIOUser", "POSIX", "CShims", "BenchKit", "TestSupport", "Control", "Sandbox",
        "BuildInfo", "nvme-vfu-server", "nvme-vfu-ctl", "nvme-vfu-bench", "nvme-vfu-fault-client",
      ],
      swiftSettings: strict),
  ]
)
