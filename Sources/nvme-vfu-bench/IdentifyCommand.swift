import ArgumentParser
import BenchKit
import NVMe
import NVMeHostDriver

/// `nvme-vfu-bench identify`: Identify Controller and Namespace, printed
/// with the field names `nvme id-ctrl` / `nvme id-ns` use.
struct IdentifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "identify",
    abstract: "Print Identify Controller and Identify Namespace data.")

  @Option(help: "The server's UNIX socket.")
  var socket: String

  @Option(help: "Namespace to show (default: every active one, up to 16).")
  var namespace: UInt32?

  func run() throws {
    do {
      var configuration = NVMeHost.Configuration()
      configuration.ramSize = 1 << 20
      let host = try attachHost(path: socket, configuration: configuration)
      guard let controller = host.controllerData else { throw BenchError("no Identify data") }
      print(IdentifyReport.controller(controller))
      let nsids = namespace.map { [$0] } ?? Array(1...max(1, min(controller.nn, 16)))
      for nsid in nsids {
        let data = try host.identifyNamespace(nsid)
        guard data.nsze > 0 || namespace != nil else { continue }
        print("")
        print(IdentifyReport.namespace(data, id: nsid))
      }
      _ = try? host.resetController()
    } catch {
      fail("\(error)", code: 1)
    }
  }
}

enum IdentifyReport {
  static func controller(_ c: IdentifyControllerData) -> String {
    let rows: [(String, String)] = [
      ("vid", Format.hex(c.vid)), ("ssvid", Format.hex(c.ssvid)), ("sn", c.sn), ("mn", c.mn),
      ("fr", c.fr), ("rab", "\(c.rab)"), ("ieee", Format.hex(c.ieee)), ("cmic", Format.hex(c.cmic)),
      ("mdts", "\(c.mdts)"), ("cntlid", Format.hex(c.cntlid)), ("ver", Format.hex(c.ver)),
      ("oaes", Format.hex(c.oaes)), ("ctratt", Format.hex(c.ctratt)),
      ("cntrltype", "\(c.cntrltype)"), ("oacs", Format.hex(c.oacs)), ("acl", "\(c.acl)"),
      ("aerl", "\(c.aerl)"), ("frmw", Format.hex(c.frmw)), ("lpa", Format.hex(c.lpa)),
      ("elpe", "\(c.elpe)"), ("npss", "\(c.npss)"), ("wctemp", "\(c.wctemp)"),
      ("cctemp", "\(c.cctemp)"), ("tnvmcap", "\(c.tnvmcap)"), ("kas", "\(c.kas)"),
      ("sqes", Format.hex(c.sqes)), ("cqes", Format.hex(c.cqes)), ("maxcmd", "\(c.maxcmd)"),
      ("nn", "\(c.nn)"), ("oncs", Format.hex(c.oncs)), ("fuses", Format.hex(c.fuses)),
      ("fna", Format.hex(c.fna)), ("vwc", Format.hex(c.vwc)), ("awun", "\(c.awun)"),
      ("awupf", "\(c.awupf)"), ("nvscc", "\(c.nvscc)"), ("sgls", Format.hex(c.sgls)),
      ("mnan", "\(c.mnan)"), ("subnqn", c.subnqn),
    ]
    return (["NVME Identify Controller:"] + rows.map { "\(Format.pad($0.0, 10)): \($0.1)" })
      .joined(separator: "\n")
  }

  static func namespace(_ n: IdentifyNamespaceData, id: UInt32) -> String {
    var lines = ["NVME Identify Namespace \(id):"]
    let rows: [(String, String)] = [
      ("nsze", Format.hex(n.nsze)), ("ncap", Format.hex(n.ncap)), ("nuse", Format.hex(n.nuse)),
      ("nsfeat", Format.hex(n.nsfeat)), ("nlbaf", "\(n.nlbaf)"), ("flbas", Format.hex(n.flbas)),
      ("mc", Format.hex(n.mc)), ("dpc", Format.hex(n.dpc)), ("dps", Format.hex(n.dps)),
      ("nmic", Format.hex(n.nmic)), ("dlfeat", "\(n.dlfeat)"),
      ("nguid", n.nguid.map { hexByte($0) }.joined()),
      ("eui64", n.eui64.map { hexByte($0) }.joined()),
    ]
    lines += rows.map { "\(Format.pad($0.0, 8)): \($0.1)" }
    for (index, format) in n.lbaFormats.enumerated() {
      let inUse = index == n.formatIndex ? " (in use)" : ""
      lines.append(
        "lbaf \(Format.pad(String(index), 2)): ms:\(Format.pad(String(format.metadataSize), 3)) "
          + "lbads:\(Format.pad(String(format.dataSizeExponent), 2)) rp:\(format.relativePerformance)\(inUse)"
      )
    }
    return lines.joined(separator: "\n")
  }

  private static func hexByte(_ byte: UInt8) -> String {
    let text = String(byte, radix: 16)
    return text.count == 1 ? "0" + text : text
  }
}
