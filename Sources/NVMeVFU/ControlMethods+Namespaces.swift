import BackendContract
import BlockIO
import Control
import Glibc
import NVMe
import POSIX

extension ControlMethods {
  /// namespace_add, namespace_remove, namespace_resize, set_qos, get_qos.
  static let namespaceMethods: [String: Method] = [
    "namespace_add": { methods, params throws(JSONRPC.ErrorObject) in
      try methods.addNamespace(params)
    },
    "namespace_remove": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly(["nsid"])
      let nsid = try params.nsid()
      return try methods.onReactor { runner in
        let controller = runner.device.controller
        do throws(NamespaceChangeError) {
          try? controller.setQoS(nsid: nsid, limits: QoSLimits())
          let ns = try controller.detach(nsid: nsid)
          ns.backend.close()
          runner.namespaceConfigurations[nsid] = nil
          runner.logger.info("namespace \(nsid) removed (control socket)")
          return .success(["nsid": .unsigned(UInt64(nsid))])
        } catch {
          return .failure(.refused(error.description))
        }
      }
    },
    "namespace_resize": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly(["nsid", "size", "force"])
      let nsid = try params.nsid()
      guard let size = try params.size("size") else { throw .invalidParams("size is required") }
      let force = try params.bool("force") ?? false
      return try methods.onReactor { runner in
        let controller = runner.device.controller
        do throws(NamespaceChangeError) {
          try controller.resize(nsid: nsid, to: size, force: force)
          runner.logger.info("namespace \(nsid) resized to \(size) bytes (control socket)")
          return .success(["nsid": .unsigned(UInt64(nsid)), "size": .unsigned(size)])
        } catch {
          return .failure(.refused(error.description))
        }
      }
    },
    "set_qos": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly(["nsid", "iops", "bytes_per_second"])
      let nsid = try params.nsid()
      let iops = try params.unsigned("iops")
      let bytes = try params.size("bytes_per_second")
      guard iops != nil || bytes != nil else {
        throw .invalidParams("give iops and/or bytes_per_second (0 removes a limit)")
      }
      return try methods.onReactor { runner in
        let controller = runner.device.controller
        guard var entry = runner.namespaceConfigurations[nsid], controller.isAttached(nsid)
        else {
          return .failure(.refused("namespace \(nsid) is not attached"))
        }
        if let iops { entry.iopsLimit = iops }
        if let bytes { entry.bytesPerSecondLimit = bytes }
        do {
          try controller.setQoS(nsid: nsid, limits: entry.qosLimits ?? QoSLimits())
        } catch {
          return .failure(.refused("namespace \(nsid) is not attached"))
        }
        runner.namespaceConfigurations[nsid] = entry
        return .success(qosJSON(nsid: nsid, entry: entry, controller: controller))
      }
    },
    "get_qos": { methods, params throws(JSONRPC.ErrorObject) in
      try params.allowOnly(["nsid"])
      let only = params.values["nsid"] == nil ? nil : try params.nsid()
      return try methods.onReactor { runner in
        let controller = runner.device.controller
        if let only, !controller.isAttached(only) {
          return .failure(.refused("namespace \(only) is not attached"))
        }
        let entries = controller.namespaces.compactMap { ns -> JSONValue? in
          guard only == nil || only == ns.id, let entry = runner.namespaceConfigurations[ns.id]
          else { return nil }
          return qosJSON(nsid: ns.id, entry: entry, controller: controller)
        }
        return .success(["namespaces": .array(entries)])
      }
    },
  ]

  static func qosJSON(nsid: UInt32, entry: NamespaceConfiguration, controller: NVMeController)
    -> JSONValue
  {
    [
      "nsid": .unsigned(UInt64(nsid)), "iops": .unsigned(entry.iopsLimit),
      "bytes_per_second": .unsigned(entry.bytesPerSecondLimit),
      "throttled_commands": .unsigned(controller.qosThrottledCommands(nsid: nsid)),
    ]
  }

  /// Opens the backend here, on the control thread (opening a file may
  /// block), then attaches it on the reactor. A backend that is not attached
  /// is closed.
  func addNamespace(_ params: Params) throws(JSONRPC.ErrorObject) -> JSONValue {
    let entry = try ConfigFile.namespace(.object(params.values))
    if case .file(let path, _) = entry.backing, let why = imageDirectories.refusal(of: path) {
      throw .refused(why)
    }
    if entry.isRBD, let rbdRefusal { throw .refused(rbdRefusal) }
    let opened: OpenedBackend
    do {
      opened = try entry.openBackend(rbdTimeout: rbdTimeout)
    } catch {
      // Beneath an --image-dir yet refused: a symlink out of it (which Landlock does
      // not follow), or a file the server's user may not open.
      let hint =
        error.errno == Errno(EACCES)
        ? " (the server's user may not open it, or it leads out of every --image-dir)" : ""
      throw .refused(error.description + hint)
    }
    let handover = Handover(backend: opened.backend, warnings: opened.warnings)
    let result = mailbox.call { runner -> Result<JSONValue, JSONRPC.ErrorObject> in
      let controller = runner.device.controller
      let backend = handover.backend
      guard let nsid = entry.nsid ?? controller.freeNamespaceID() else {
        backend.close()
        return .failure(
          .refused(
            NamespaceChangeError.noFreeNamespaceID(max: controller.settings.maxNamespaces)
              .description))
      }
      let ns: Namespace
      do throws(ServerStartError) {
        ns = try entry.namespace(
          id: nsid, backend: backend, serial: runner.configuration.serialNumber)
      } catch {
        return .failure(.refused(error.description))
      }
      do throws(NamespaceChangeError) {
        try controller.attach(ns)
      } catch {
        backend.close()
        return .failure(.refused(error.description))
      }
      var attached = entry
      attached.nsid = nsid
      if let limits = entry.qosLimits { try? controller.setQoS(nsid: nsid, limits: limits) }
      runner.namespaceConfigurations[nsid] = attached
      for warning in handover.warnings { runner.logger.warning("\(warning)") }
      runner.logger.info("namespace \(nsid) added: \(entry.backing) (control socket)")
      return .success(["nsid": .unsigned(UInt64(nsid)), "size": .unsigned(backend.size)])
    }
    guard let result else {
      // The reactor never took it: the job will not run, so the backend is ours to close.
      handover.backend.close()
      throw .busy("the server did not take the request within 5 s (it may be stopping)")
    }
    return try result.get()
  }
}

/// A backend opened on the control thread, handed to the reactor, which owns
/// it from then on. Unchecked: exactly one thread uses it at a time, and the
/// mailbox's lock orders the hand-over.
private struct Handover: @unchecked Sendable {
  let backend: any BlockBackend
  let warnings: [String]
}

extension NVMeController {
  fileprivate func isAttached(_ nsid: UInt32) -> Bool {
    namespaces.contains { $0.id == nsid }
  }
}
