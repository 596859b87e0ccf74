import CSeccomp
import Glibc

/// A seccomp filter built with libseccomp: allowed syscalls by name, everything else
/// kills the process (SIGSYS, which the kernel logs). Loaded with TSYNC, so every
/// thread of the process has it, and with no_new_privs, which seccomp requires.
public struct SeccompFilter: Sendable {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// A rule beyond "allowed": what to do for one syscall.
  public enum Rule: Sendable {
    /// Allowed only when `(argument & mask) == value` (e.g. clone's flags).
    case allowIfMasked(argument: UInt32, mask: UInt64, value: UInt64)
    /// Fails with this errno instead of killing (a caller that has a fallback).
    case fail(errno: Int32)
  }

  public var allowed: [String]
  public var rules: [(name: String, rule: Rule)]

  public init(allowed: [String], rules: [(name: String, rule: Rule)] = []) {
    self.allowed = allowed
    self.rules = rules
  }

  // The scmp action values (seccomp.h macros Swift does not import).
  static let killProcess: UInt32 = 0x8000_0000
  static let allow: UInt32 = 0x7fff_0000
  static func errnoAction(_ code: Int32) -> UInt32 { 0x0005_0000 | (UInt32(code) & 0xffff) }

  /// Installs the filter on every thread. Names this architecture lacks are skipped
  /// (the list is written for x86_64 and aarch64 alike).
  public func load() throws(Failure) {
    guard let context = seccomp_init(Self.killProcess) else {
      throw Failure(description: "seccomp_init failed")
    }
    defer { seccomp_release(context) }
    try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_TSYNC, 1), "seccomp_attr_set(TSYNC)")
    for name in allowed {
      let number = seccomp_syscall_resolve_name(name)
      guard number != __NR_SCMP_ERROR else { continue }
      try check(seccomp_rule_add_array(context, Self.allow, number, 0, nil), "allow \(name)")
    }
    for (name, rule) in rules {
      let number = seccomp_syscall_resolve_name(name)
      guard number != __NR_SCMP_ERROR else { continue }
      switch rule {
      case .allowIfMasked(let argument, let mask, let value):
        var comparison = scmp_arg_cmp(
          arg: argument, op: SCMP_CMP_MASKED_EQ, datum_a: mask, datum_b: value)
        try check(
          seccomp_rule_add_array(context, Self.allow, number, 1, &comparison), "rule for \(name)")
      case .fail(let code):
        try check(
          seccomp_rule_add_array(context, Self.errnoAction(code), number, 0, nil),
          "rule for \(name)")
      }
    }
    try check(seccomp_load(context), "seccomp_load")
  }

  private func check(_ rc: Int32, _ what: String) throws(Failure) {
    guard rc == 0 else {
      throw Failure(description: "\(what): \(String(cString: strerror(-rc)))")
    }
  }
}
