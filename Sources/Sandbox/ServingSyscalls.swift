import Glibc

/// The syscalls a serving nvme-vfu-server makes once set-up is done, grouped by why.
/// Measured with strace over the VM suite (data, reset, lifecycle, live, ns, cmd, fs)
/// and read from the code paths strace may not have reached (namespace_add, resize,
/// the metrics file, errors, the stop). Names this architecture lacks are skipped.
/// A path that needs one more call dies with SIGSYS: add it here, with why.
public enum ServingSyscalls {
  public static let allowed: [String] =
    socketTraffic + events + memory + libaio + files + threads + process

  /// The allowlist for a server whose namespaces at start use io_uring
  /// (`ioUring`) or Ceph RBD (`rbd`), or neither.
  public static func allowed(ioUring: Bool, rbd: Bool = false) -> [String] {
    allowed + (ioUring ? self.ioUring : []) + (rbd ? librbd : [])
  }

  /// The rules beside the allowlist. Without io_uring, io_uring_setup fails with
  /// EPERM instead of killing the server, so a namespace_add that asks for it gets
  /// an error reply.
  public static func rules(ioUring: Bool) -> [(name: String, rule: SeccompFilter.Rule)] {
    ioUring ? rules : rules + [("io_uring_setup", .fail(errno: EPERM))]
  }

  /// io_uring, allowed only when a namespace at start uses it: what a ring's
  /// entries do is not a syscall this filter sees. Our rings are restricted to
  /// reads, writes and fsync on their one registered image (BlockIO's
  /// URingQueue), but a process that may call io_uring_setup could make a ring
  /// without those restrictions; Landlock still checks the files it opens.
  static let ioUring = ["io_uring_setup", "io_uring_enter", "io_uring_register"]

  /// librbd's and librados's own threads (TSYNC puts them under this filter too):
  /// TCP to the monitors and OSDs, reconnects after the cluster went quiet, and
  /// their epoll loops. Measured with strace -f over a server on RBD (verified I/O,
  /// the cluster frozen for 45 s under I/O so librados hunts for a monitor and
  /// reconnects, I/O after it returns, the stop); allowed only when a namespace at
  /// start is on RBD. epoll_pwait is what epoll_wait is on some architectures.
  static let librbd = [
    "connect", "getsockname", "setsockopt", "epoll_ctl", "epoll_wait", "epoll_pwait", "uname",
  ]

  /// vfio-user and control messages (SCM_RIGHTS ride on recvmsg/sendmsg), accepting
  /// clients and checking who they are, and the sd_notify datagram at the stop.
  static let socketTraffic = [
    "read", "write", "readv", "writev", "recvmsg", "sendmsg", "recvfrom", "sendto",
    "accept", "accept4", "getsockopt", "shutdown", "socket", "close", "fcntl",
  ]

  /// The reactor's and the control thread's waits, eventfds, timers and the signalfd.
  static let events = [
    "ppoll", "poll", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday",
  ]

  /// DMA windows mapped and unmapped as the VMM changes its memory map, the SIGBUS
  /// guard's zero pages, and the allocator.
  static let memory = ["mmap", "munmap", "mprotect", "madvise", "mremap", "brk", "memfd_create"]

  /// libaio, and the backends namespace_add opens while serving.
  static let libaio = [
    "io_setup", "io_destroy", "io_submit", "io_getevents", "io_pgetevents", "io_cancel",
  ]

  /// Images (namespace_add, resize, flush, deallocate), the metrics file written
  /// atomically, and the socket removed at the stop.
  static let files = [
    "openat", "newfstatat", "fstat", "statx", "lseek", "pread64", "pwrite64", "preadv",
    "pwritev", "preadv2", "pwritev2", "flock", "fallocate", "ftruncate", "fsync",
    "fdatasync", "rename", "renameat", "renameat2", "unlink", "unlinkat", "umask",
    "copy_file_range",
  ]

  /// Helper threads started on demand (the fdatasync and zeroing helper), futexes, and
  /// what glibc and the Swift runtime ask for around them.
  static let threads = [
    "futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity", "madvise",
    "gettid", "getpid", "tgkill", "exit", "exit_group", "getrandom",
  ]

  /// What the process asks about itself (logging, Foundation).
  static let process = ["getuid", "geteuid", "getgid", "getegid"]

  /// clone only for threads (CLONE_THREAD set), never for a new process; clone3's flags
  /// sit in memory a filter cannot read, so it fails with ENOSYS and glibc falls back
  /// to clone.
  /// CLONE_THREAD (linux/sched.h; glibc declares it only with _GNU_SOURCE).
  static let cloneThread: UInt64 = 0x0001_0000

  public static let rules: [(name: String, rule: SeccompFilter.Rule)] = [
    ("clone", .allowIfMasked(argument: 0, mask: cloneThread, value: cloneThread)),
    ("clone3", .fail(errno: ENOSYS)),
    // A block device's size and sector size, read when namespace_add opens one.
    ("ioctl", .allowIfMasked(argument: 1, mask: 0xffff_ffff, value: blockGetSize64)),
    ("ioctl", .allowIfMasked(argument: 1, mask: 0xffff_ffff, value: 0x1268)),
  ]

  /// BLKGETSIZE64, _IOR(0x12, 114, size_t) (powerpc encodes "read" in another bit;
  /// BlockIO's LinuxConstants.swift has the same); BLKSSZGET, 0x1268, is one number.
  #if arch(powerpc64) || arch(powerpc64le)
    static let blockGetSize64: UInt64 = 0x4008_1272
  #else
    static let blockGetSize64: UInt64 = 0x8008_1272
  #endif
}
