import Glibc

/// Counts this process's open descriptors (/proc/self/fd), to catch a leak
/// per input: libFuzzer runs millions of inputs, and one leaked descriptor
/// each would end in EMFILE far from its cause.
enum OpenDescriptors {
  static func count() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var entries = 0
    while let entry = readdir(dir) {
      if entry.pointee.d_name.0 != UInt8(ascii: ".") { entries += 1 }
    }
    return entries
  }
}
