import NVMe
import VFIOUser

extension NVMeHost {
  /// Whether Identify Controller offers Doorbell Buffer Config (OACS bit 8).
  public var shadowDoorbellsOffered: Bool {
    controllerData?.supportsDoorbellBufferConfig ?? false
  }

  /// Sends Doorbell Buffer Config (7Ch) once per enable, before the first
  /// I/O queues, when the controller offers it and the configuration wants
  /// it: PRP1 the zeroed shadow page, PRP2 the zeroed EventIdx page. A
  /// controller that refuses it leaves the host on real doorbells, as Linux
  /// carries on.
  func configureShadowDoorbells() throws(NVMeHostError) {
    guard configuration.shadowDoorbells, shadowDoorbellsOffered, !shadowDoorbellsActive else {
      return
    }
    let pages: ShadowDoorbellPages
    if let known = shadowPages {
      pages = known
    } else {
      do {
        pages = try ShadowDoorbellPages(ram: ram, stride: capabilities.doorbellStride)
      } catch {
        throw error == .noSpace ? .invalidArgument("guest RAM exhausted") : .transport(error)
      }
      shadowPages = pages
    }
    // The controller is not using the pages now: nothing from a previous
    // enable may pass for a tail, a head or an EventIdx.
    pages.clear()
    do {
      try admin(
        NVMeCommand(
          opcode: AdminOpcode.doorbellBufferConfig.rawValue, prp1: pages.shadow.address,
          prp2: pages.eventIndex.address))
      shadowDoorbellsActive = true
    } catch {
      guard case .command = error else { throw error }
    }
  }
}
