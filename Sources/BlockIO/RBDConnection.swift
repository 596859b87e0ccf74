import CRBD
import Glibc
import POSIX

/// The librados cluster handle, pool context and librbd image behind one
/// `RBDBackend`, opened in that order and released in the reverse one.
struct RBDConnection {
  let cluster: rados_t
  let ioctx: rados_ioctx_t
  let image: rbd_image_t

  /// Closes the image (which gives up its exclusive lock), then the pool
  /// context and the cluster connection.
  func close() {
    rbd_close(image)
    rados_ioctx_destroy(ioctx)
    rados_shutdown(cluster)
  }

  /// Connects and opens `spec`'s image; read-only when `readOnly` or a
  /// snapshot is named, else writable and exclusively locked.
  /// - Parameter timeout: whole seconds for reaching the monitors and for
  ///   every monitor and OSD operation after that, so a dead cluster fails
  ///   requests instead of hanging them.
  static func open(_ spec: RBDSpec, readOnly: Bool, timeout: Int) throws(BlockIOError)
    -> RBDConnection
  {
    let fail = RBDOpenFailure(spec: spec, timeout: timeout)
    var handle: rados_t?
    var rc = withOptionalCString(spec.id) { rados_create(&handle, $0) }
    guard rc == 0, let cluster = handle else { throw fail("cannot create a cluster handle", rc) }
    var opened = false
    defer { if !opened { rados_shutdown(cluster) } }

    rc = withOptionalCString(spec.conf) { rados_conf_read_file(cluster, $0) }
    guard rc == 0 else { throw fail.conf(rc) }
    for (option, value) in settings(timeout: timeout) {
      rc = rados_conf_set(cluster, option, value)
      guard rc == 0 else { throw fail("cannot set \(option)=\(value)", rc) }
    }
    rc = rados_connect(cluster)
    guard rc == 0 else { throw fail.connect(rc) }

    var context: rados_ioctx_t?
    rc = rados_ioctx_create(cluster, spec.pool, &context)
    guard rc == 0, let ioctx = context else {
      throw rc == -ENOENT
        ? fail.message("pool '\(spec.pool)' not found", errno: ENOENT)
        : fail("cannot open pool '\(spec.pool)'", rc)
    }
    defer { if !opened { rados_ioctx_destroy(ioctx) } }

    let image = try openImage(spec, ioctx: ioctx, readOnly: readOnly, fail: fail)
    defer { if !opened { rbd_close(image) } }
    if !readOnly && spec.snap == nil { try lockExclusively(image, fail: fail) }
    opened = true
    return RBDConnection(cluster: cluster, ioctx: ioctx, image: image)
  }

  /// What the server needs of librados beyond the conf: bounded waits, no
  /// admin socket or log file (nothing written outside the image), no
  /// chatter on the server's stderr (its own log says what failed), discards
  /// that zero partial objects, so deallocated blocks read back as zeroes as
  /// the controller promises, and no librbd cache: with it, a Flush succeeded
  /// here while the cluster was frozen and the write before it could not have
  /// reached an OSD. Without it a write completes once the OSDs have it, as
  /// QEMU's cache=none.
  static func settings(timeout: Int) -> [(String, String)] {
    [
      ("client_mount_timeout", "\(timeout)"), ("rados_mon_op_timeout", "\(timeout)"),
      ("rados_osd_op_timeout", "\(timeout)"), ("admin_socket", ""), ("log_file", ""),
      ("log_to_stderr", "false"), ("err_to_stderr", "false"),
      ("rbd_skip_partial_discard", "false"), ("rbd_cache", "false"),
    ]
  }

  private static func openImage(
    _ spec: RBDSpec, ioctx: rados_ioctx_t, readOnly: Bool, fail: RBDOpenFailure
  ) throws(BlockIOError) -> rbd_image_t {
    var handle: rbd_image_t?
    let rc =
      readOnly || spec.snap != nil
      ? withOptionalCString(spec.snap) { rbd_open_read_only(ioctx, spec.image, &handle, $0) }
      : rbd_open(ioctx, spec.image, &handle, nil)
    if rc == 0, let handle { return handle }
    guard rc == -ENOENT else { throw fail("cannot open image '\(spec.image)'", rc) }
    // ENOENT covers a missing snapshot too: say which is missing.
    var head: rbd_image_t?
    if spec.snap != nil, rbd_open_read_only(ioctx, spec.image, &head, nil) == 0, let head {
      rbd_close(head)
      throw fail.message(
        "snapshot '\(spec.snap ?? "")' of image '\(spec.image)' not found", errno: ENOENT)
    }
    throw fail.message("image '\(spec.image)' not found in pool '\(spec.pool)'", errno: ENOENT)
  }

  /// Takes RBD's exclusive lock and keeps it: once taken this way librbd
  /// refuses other clients' requests for it instead of handing it over, so
  /// a second writer fails to open rather than interleaving with us.
  private static func lockExclusively(_ image: rbd_image_t, fail: RBDOpenFailure)
    throws(BlockIOError)
  {
    let rc = rbd_lock_acquire(image, RBD_LOCK_MODE_EXCLUSIVE)
    if rc == 0 { return }
    switch -rc {
    case EINVAL:
      throw fail.message(
        "image has no exclusive-lock feature, so a second writer could not be kept out"
          + " (rbd feature enable \(fail.spec.pool)/\(fail.spec.image) exclusive-lock)")
    case EROFS, EBUSY, EAGAIN:
      let owner = lockOwner(image).map { " (\($0))" } ?? ""
      throw fail.message("image is locked by another client\(owner)", errno: EBUSY)
    default:
      throw fail("cannot take the exclusive lock", rc)
    }
  }

  /// The client holding the image's exclusive lock, as librbd names it.
  private static func lockOwner(_ image: rbd_image_t) -> String? {
    var mode = RBD_LOCK_MODE_EXCLUSIVE
    var owners = [UnsafeMutablePointer<CChar>?](repeating: nil, count: 4)
    var count = owners.count
    guard rbd_lock_get_owners(image, &mode, &owners, &count) == 0 else { return nil }
    defer { rbd_lock_get_owners_cleanup(&owners, count) }
    guard count > 0, let first = owners.first ?? nil else { return nil }
    return String(
      decoding: UnsafeRawBufferPointer(start: first, count: strlen(first)), as: UTF8.self)
  }
}

/// Calls `body` with `text` as a C string, or with NULL for nil.
private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
  guard let text else { return body(nil) }
  return text.withCString { body($0) }
}

/// Builds the one-line errors of an open: "rbd:rbd/img: pool 'rbd' not found".
struct RBDOpenFailure {
  let spec: RBDSpec
  let timeout: Int

  func message(_ reason: String, errno: Int32 = EIO) -> BlockIOError {
    BlockIOError(subject: spec.name, errno: Errno(errno), reason: reason)
  }

  /// `what` failed with librados's negative errno `rc`.
  func callAsFunction(_ what: String, _ rc: Int32) -> BlockIOError {
    let errno = Errno(rc < 0 && rc > -4096 ? -rc : EIO)
    return BlockIOError(subject: spec.name, errno: errno, reason: "\(what): \(errno.text)")
  }

  var confName: String { spec.conf.map { "conf \($0)" } ?? "the default conf" }

  func conf(_ rc: Int32) -> BlockIOError {
    if spec.conf == nil && rc == -ENOENT {
      return self("no ceph.conf found (give conf=PATH or set CEPH_CONF)", rc)
    }
    return self("cannot read \(confName)", rc)
  }

  func connect(_ rc: Int32) -> BlockIOError {
    switch -rc {
    case ETIMEDOUT:
      return self("cannot reach the cluster within \(timeout) s (\(confName))", rc)
    case EACCES, EPERM:
      let user = "client.\(spec.id ?? "admin")"
      return self("the cluster refused \(user) (its key or caps; \(confName))", rc)
    case ENOENT:
      return self("cannot connect: no keyring or monitor address (\(confName))", rc)
    default:
      return self("cannot connect to the cluster (\(confName))", rc)
    }
  }
}
