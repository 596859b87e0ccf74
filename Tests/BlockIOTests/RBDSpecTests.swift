import Glibc
import POSIX
import Testing

@testable import BlockIO

/// `rbd:POOL/IMAGE[,conf=PATH][,id=NAME][,snap=SNAP]`, and the open errors
/// that need no cluster.
@Suite struct RBDSpecTests {
  @Test func parsesThePoolImageAndOptions() throws {
    #expect(try BackendSpec(parsing: "rbd:rbd/img") == .rbd(RBDSpec(pool: "rbd", image: "img")))
    #expect(
      try BackendSpec(parsing: "rbd:pool/vm-1,conf=/etc/ceph/x.conf,id=nvme,snap=s1")
        == .rbd(
          RBDSpec(pool: "pool", image: "vm-1", conf: "/etc/ceph/x.conf", id: "nvme", snap: "s1")))
    // Any order, and '=' inside a value.
    #expect(
      try BackendSpec(parsing: "rbd:p/i,snap=a,conf=/a=b")
        == .rbd(RBDSpec(pool: "p", image: "i", conf: "/a=b", snap: "a")))
    // file: still names a file that looks like a spec.
    #expect(try BackendSpec(parsing: "file:rbd:p/i") == .file(path: "rbd:p/i"))
  }

  @Test(arguments: [
    ("rbd:", "no POOL/ before the image"),
    ("rbd:img", "no POOL/ before the image"),
    ("rbd:/img", "missing pool"),
    ("rbd:pool/", "missing image"),
    ("rbd:pool/,conf=x", "missing image"),
    ("rbd:p/ns/img", "image 'ns/img' contains '/' (RBD namespaces are not supported)"),
    ("rbd:p/i,conf", "option 'conf' is not KEY=VALUE"),
    ("rbd:p/i,size=1G", "unknown option 'size' (expected conf, id or snap)"),
    ("rbd:p/i,conf=", "empty value for 'conf'"),
    ("rbd:p/i,snap=a,snap=b", "'snap' given twice"),
    ("rbd:p/i,", "empty option (a stray ',')"),
  ])
  func refusesMalformedSpecsInOneLine(text: String, reason: String) {
    let error = openError { () throws(BlockIOError) in _ = try BackendSpec(parsing: text) }
    #expect(error?.errno == Errno(EINVAL))
    #expect(error?.subject == "backing '\(text)'")
    #expect(error?.reason.hasPrefix(reason) == true, "\(error?.reason ?? "no error")")
    #expect(error?.description.contains("\n") == false)
  }

  @Test func roundTrips() throws {
    for text in [
      "rbd:rbd/img", "rbd:p/i,conf=/c.conf", "rbd:p/i,id=nvme", "rbd:p/i,snap=s",
      "rbd:p/i,conf=/c,id=u,snap=s",
    ] {
      let spec = try BackendSpec(parsing: text)
      #expect(spec.description == text)
      #expect(spec.unambiguousSpelling == text)
      #expect(try BackendSpec(parsing: spec.unambiguousSpelling) == spec)
    }
    // Options in another order come back in the fixed one.
    #expect(try BackendSpec(parsing: "rbd:p/i,snap=s,id=u").description == "rbd:p/i,id=u,snap=s")
    #expect(RBDSpec(pool: "p", image: "i", snap: "s").name == "rbd:p/i@s")
  }

  @Test func theUnknownSchemeMessageListsRBD() {
    let error = openError { () throws(BlockIOError) in _ = try BackendSpec(parsing: "rdb:p/i") }
    #expect(error?.reason.contains("rbd:POOL/IMAGE") == true)
  }

  @Test func refusesABadTimeoutBeforeConnecting() {
    let error = openError { () throws(BlockIOError) in
      _ = try RBDBackend(spec: RBDSpec(pool: "p", image: "i"), timeout: 0)
    }
    #expect(error?.description == "rbd timeout 0: not between 1 and 3600 seconds")
  }

  @Test func aMissingConfIsNamed() {
    let spec = RBDSpec(pool: "p", image: "i", conf: "/nonexistent/ceph.conf")
    let error = openError { () throws(BlockIOError) in _ = try RBDBackend(spec: spec) }
    #expect(
      error?.description
        == "rbd:p/i: cannot read conf /nonexistent/ceph.conf: No such file or directory")
  }
}
