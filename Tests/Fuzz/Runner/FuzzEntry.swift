// The libFuzzer entry points, compiled only into the sanitizer build
// (run.sh passes -DFUZZING): libFuzzer brings its own main, which calls these.
#if FUZZING
  import FuzzHarness

  import Glibc

  /// Set once by `LLVMFuzzerInitialize`, before the first input.
  nonisolated(unsafe) private var selectedTarget = FuzzTarget.vfioStream

  /// The target comes from the environment, not argv: libFuzzer re-executes
  /// itself with its own arguments (-merge, -fork), and the environment is
  /// inherited where an extra argument would be lost.
  @_cdecl("LLVMFuzzerInitialize")
  public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
  ) -> Int32 {
    let name = getenv("NVME_VFU_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
      let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
      let message = Array("nvme-vfu-fuzz: set NVME_VFU_FUZZ_TARGET to one of: \(names)\n".utf8)
      _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
      exit(2)
    }
    selectedTarget = target
    return 0
  }

  /// A broken invariant becomes a crash, so libFuzzer keeps the input.
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let report = selectedTarget.run(input)
    if !report.isClean { fatalError("\(selectedTarget.rawValue): \(report)") }
    return 0
  }
#endif
