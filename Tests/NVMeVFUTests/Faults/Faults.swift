import Testing

extension NVMeVFUTests {
  /// Fault injection (issue 7): clients and servers killed with SIGKILL,
  /// backing files that fail, hostile doorbells and queue placement, queue
  /// and client churn. Most run the built `nvme-vfu-server` (and
  /// `nvme-vfu-fault-client`) as processes; each prints the figures it
  /// produced. Nested in the serialized NVMeVFUTests suite because these
  /// tests, too, hold clients in this process while others count its
  /// descriptors. `swift test --filter Faults` runs only these.
  @Suite struct Faults {}
}
