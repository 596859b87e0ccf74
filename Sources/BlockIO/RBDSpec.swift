/// A Ceph RBD image as `--backing` names it:
/// `rbd:POOL/IMAGE[,conf=PATH][,id=NAME][,snap=SNAP]`.
public struct RBDSpec: Sendable, Hashable, CustomStringConvertible {
  public var pool: String
  public var image: String
  /// The ceph.conf to read; nil leaves it to librados ($CEPH_CONF, then
  /// /etc/ceph/ceph.conf and the other default places).
  public var conf: String?
  /// The cephx user without its `client.` prefix; nil is librados's default (admin).
  public var id: String?
  /// A snapshot to open instead of the head: always read-only.
  public var snap: String?

  public init(
    pool: String, image: String, conf: String? = nil, id: String? = nil, snap: String? = nil
  ) {
    self.pool = pool
    self.image = image
    self.conf = conf
    self.id = id
    self.snap = snap
  }

  static let usage = "expected rbd:POOL/IMAGE[,conf=PATH][,id=NAME][,snap=SNAP]"

  /// Parses what follows `rbd:`; `text` is the whole spec, for messages.
  init(parsing body: String, text: String) throws(BlockIOError) {
    let subject = "backing '\(text)'"
    let parts = body.split(separator: ",", omittingEmptySubsequences: false)
    let name = parts.first ?? ""
    guard let slash = name.firstIndex(of: "/") else {
      throw .invalid(subject, "no POOL/ before the image (\(Self.usage))")
    }
    let pool = String(name[..<slash])
    let image = String(name[name.index(after: slash)...])
    guard !pool.isEmpty else { throw .invalid(subject, "missing pool (\(Self.usage))") }
    guard !image.isEmpty else { throw .invalid(subject, "missing image (\(Self.usage))") }
    guard !image.contains("/") else {
      throw .invalid(subject, "image '\(image)' contains '/' (RBD namespaces are not supported)")
    }
    self.init(pool: pool, image: image)
    var seen: Set<Substring> = []
    for option in parts.dropFirst() {
      guard !option.isEmpty else { throw .invalid(subject, "empty option (a stray ',')") }
      guard let equals = option.firstIndex(of: "=") else {
        throw .invalid(subject, "option '\(option)' is not KEY=VALUE (\(Self.usage))")
      }
      let key = option[..<equals]
      let value = String(option[option.index(after: equals)...])
      guard ["conf", "id", "snap"].contains(key) else {
        throw .invalid(subject, "unknown option '\(key)' (expected conf, id or snap)")
      }
      guard !value.isEmpty else { throw .invalid(subject, "empty value for '\(key)'") }
      guard seen.insert(key).inserted else { throw .invalid(subject, "'\(key)' given twice") }
      switch key {
      case "conf": conf = value
      case "id": id = value
      default: snap = value
      }
    }
  }

  /// `rbd:POOL/IMAGE` with `@SNAP`: what error messages are about.
  public var name: String { "rbd:\(pool)/\(image)" + (snap.map { "@\($0)" } ?? "") }

  /// The options in a fixed order, so the text parses back to this spec.
  public var description: String {
    var text = "rbd:\(pool)/\(image)"
    if let conf { text += ",conf=\(conf)" }
    if let id { text += ",id=\(id)" }
    if let snap { text += ",snap=\(snap)" }
    return text
  }
}
