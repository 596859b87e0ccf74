import Foundation
import Glibc
import TestSupport

/// A filesystem a fault test mounts for itself (root only): a small tmpfs
/// that fills up, or an ext4 on a loop device that can be shut down like a
/// crashed machine's. Unmounted when released.
final class TestMount {
  /// Why a test cannot have its mount here (not root, no mkfs.ext4, no loop
  /// devices, ...): the test prints it and passes without the fault.
  struct Unavailable: Error, CustomStringConvertible {
    var description: String
  }

  let path: String
  /// The ext4 image and the options to mount it again; nil for tmpfs.
  private let loopImage: String?
  private var mounted = true
  /// Where the mount point (and the ext4 image) live: removed only after
  /// the unmount.
  private let scratch: TemporaryDirectory

  private init(path: String, loopImage: String?, scratch: TemporaryDirectory) {
    self.path = path
    self.loopImage = loopImage
    self.scratch = scratch
  }

  deinit { unmount() }

  /// A tmpfs of `size` bytes (a multiple of 4 KiB) at `scratch`/tmpfs.
  static func tmpfs(in scratch: TemporaryDirectory, size: Int) throws(Unavailable) -> TestMount {
    let path = "\(scratch.path)/tmpfs"
    try makeDirectory(path)
    guard Glibc.mount("tmpfs", path, "tmpfs", 0, "size=\(size)") == 0 else {
      throw Unavailable(description: "mount tmpfs: \(String(cString: strerror(errno)))")
    }
    return TestMount(path: path, loopImage: nil, scratch: scratch)
  }

  /// A fresh ext4 of `megabytes` in the file `scratch`/ext4.img,
  /// loop-mounted at `scratch`/ext4. The journal commits only when asked
  /// (fsync) or after 300 s, so `shutdown()` loses exactly what was never
  /// made durable.
  static func ext4(in scratch: TemporaryDirectory, megabytes: Int) throws(Unavailable) -> TestMount
  {
    let image = "\(scratch.path)/ext4.img"
    let path = "\(scratch.path)/ext4"
    guard getuid() == 0 else { throw Unavailable(description: "not root") }
    guard let mkfs = ChildProcess.systemTool("mkfs.ext4") else {
      throw Unavailable(description: "mkfs.ext4 not found")
    }
    let fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0, ftruncate(fd, off_t(megabytes) << 20) == 0 else {
      if fd >= 0 { close(fd) }
      throw Unavailable(description: "\(image): \(String(cString: strerror(errno)))")
    }
    close(fd)
    try run(mkfs, ["-q", "-F", image])
    try makeDirectory(path)
    let mount = TestMount(path: path, loopImage: image, scratch: scratch)
    try mount.mountImage()
    return mount
  }

  /// Shuts the ext4 down as EXT4_IOC_SHUTDOWN does for a dying machine:
  /// every later access fails with EIO, and with `flushLog` false the
  /// journal's uncommitted transactions are dropped (what a power cut loses
  /// of the image file's metadata). Data made durable by fsync stays.
  func shutdown(flushLog: Bool) throws(Unavailable) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else {
      throw Unavailable(description: "open \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    // _IOR('X', 125, __u32); EXT4_GOING_FLAGS_LOGFLUSH 1, _NOLOGFLUSH 2.
    let request: UInt = 0x8004_587D
    var flags: UInt32 = flushLog ? 1 : 2
    guard ioctl(fd, request, &flags) == 0 else {
      throw Unavailable(description: "EXT4_IOC_SHUTDOWN: \(String(cString: strerror(errno)))")
    }
  }

  /// Unmounts and mounts the ext4 again (the journal is replayed): what
  /// the next boot would find.
  func remount() throws(Unavailable) {
    unmount()
    try mountImage()
  }

  func unmount() {
    guard mounted else { return }
    mounted = false
    if umount2(path, 0) != 0 { _ = umount2(path, Int32(MNT_DETACH)) }
  }

  private func mountImage() throws(Unavailable) {
    guard let loopImage else { return }
    guard let mountTool = ChildProcess.systemTool("mount") else {
      throw Unavailable(description: "mount(8) not found")
    }
    try Self.run(mountTool, ["-t", "ext4", "-o", "loop,commit=300", loopImage, path])
    mounted = true
  }

  private static func run(_ tool: String, _ arguments: [String]) throws(Unavailable) {
    do {
      let result = try ChildProcess.run(tool, arguments)
      guard result.exit == .exited(0) else {
        throw Unavailable(
          description:
            "\(tool) \(arguments.joined(separator: " ")): \(result.exit): \(result.output)")
      }
    } catch let error as Unavailable {
      throw error
    } catch {
      throw Unavailable(description: "\(tool): \(error)")
    }
  }

  private static func makeDirectory(_ path: String) throws(Unavailable) {
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
      throw Unavailable(description: "mkdir \(path): \(String(cString: strerror(errno)))")
    }
  }
}
