import BackendContract
import Glibc
import POSIX

/// A backend the factory opened, with what the operator should hear about it
/// (e.g. "O_DIRECT not supported on disk.img; using buffered I/O").
public struct OpenedBackend {
  public let backend: any BlockBackend
  public let warnings: [String]
}

/// Opens the backend a `BackendSpec` names, with the checks every kind shares.
public enum BackendFactory {
  /// - Parameters:
  ///   - size: for a file, the size to create it with (sparse) when it does
  ///     not exist; an existing file keeps its own size (a differing request
  ///     becomes one of the `warnings`). For `mem:`/`null:` the spec
  ///     carries the size, and a different `size` here is an error.
  ///   - blockSize: the namespace's block size (a power of two from 512 to
  ///     64 KiB); the capacity must be a multiple of it.
  ///   - rbdTimeout: for an RBD image, the seconds to reach the cluster and
  ///     for every operation on it (a dead cluster fails requests after it).
  public static func open(
    spec: BackendSpec, size: UInt64? = nil, readOnly: Bool = false, blockSize: Int = 512,
    queueDepth: Int = FileBackend.defaultQueueDepth, rbdTimeout: Int = RBDBackend.defaultTimeout
  ) throws(BlockIOError) -> OpenedBackend {
    try checkBlockSize(blockSize)
    switch spec {
    case .memory(let specSize), .null(let specSize):
      if let size, size != specSize {
        throw .invalid(
          "\(spec)", "requested size \(size) differs from the size in the spec")
      }
      try checkMultiple(specSize, of: blockSize, subject: "\(spec)")
      if case .null = spec {
        return OpenedBackend(backend: NullBackend(size: specSize, readOnly: readOnly), warnings: [])
      }
      guard let backend = MemoryBackend(size: specSize, readOnly: readOnly) else {
        throw BlockIOError(
          subject: "\(spec)", errno: Errno(ENOMEM), reason: "cannot allocate \(specSize) bytes")
      }
      return OpenedBackend(backend: backend, warnings: [])
    case .file(let path, let engine):
      let backend = try FileBackend(
        path: path, createSize: size, readOnly: readOnly, blockSize: blockSize,
        queueDepth: queueDepth, engine: engine)
      return OpenedBackend(backend: backend, warnings: backend.warnings)
    case .rbd(let rbd):
      return try openRBD(
        rbd, size: size, readOnly: readOnly, blockSize: blockSize,
        queueDepth: queueDepth, timeout: rbdTimeout)
    }
  }

  /// An RBD image keeps its own size, like an existing file: a differing
  /// request is a warning (resize it with `rbd resize`).
  private static func openRBD(
    _ spec: RBDSpec, size: UInt64?, readOnly: Bool, blockSize: Int, queueDepth: Int,
    timeout: Int
  ) throws(BlockIOError) -> OpenedBackend {
    let backend = try RBDBackend(
      spec: spec, readOnly: readOnly, timeout: timeout, queueDepth: queueDepth)
    do throws(BlockIOError) {
      try checkMultiple(backend.size, of: blockSize, subject: spec.name)
    } catch {
      backend.close()
      throw error
    }
    var warnings: [String] = []
    if let size, size != backend.size {
      warnings.append(
        "\(spec.name): has size \(backend.size); ignoring the requested size \(size)")
    }
    return OpenedBackend(backend: backend, warnings: warnings)
  }

  static func checkBlockSize(_ blockSize: Int) throws(BlockIOError) {
    guard blockSize >= 512, blockSize <= 65536, blockSize & (blockSize &- 1) == 0 else {
      throw .invalid("block size \(blockSize)", "not a power of two from 512 to 65536")
    }
  }

  /// "disk.img: size 1000 is not a multiple of the 512-byte block size".
  static func checkMultiple(_ size: UInt64, of blockSize: Int, subject: String)
    throws(BlockIOError)
  {
    guard size % UInt64(blockSize) == 0 else {
      throw .invalid(subject, "size \(size) is not a multiple of the \(blockSize)-byte block size")
    }
  }
}
