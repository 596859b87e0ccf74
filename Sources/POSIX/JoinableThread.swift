import Glibc

/// A pthread running a closure, joined by `join`: for threads whose owner
/// must know they have ended (a helper draining its queue, the control
/// socket). The owner calls `join` once, from one thread.
public final class JoinableThread {
  private var handle: pthread_t?

  /// Starts `body` on a new thread; pthread_create's errno on failure.
  public init(_ body: @escaping () -> Void) throws(Errno) {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var handle = pthread_t()
    let rc = pthread_create(
      &handle, nil,
      { context in
        guard let context else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
        return nil
      }, context)
    guard rc == 0 else {
      Unmanaged<ThreadBody>.fromOpaque(context).release()
      throw Errno(rc)
    }
    self.handle = handle
  }

  /// Waits for the thread to end; later calls return at once.
  public func join() {
    guard let handle else { return }
    pthread_join(handle, nil)
    self.handle = nil
  }
}

private final class ThreadBody {
  let body: () -> Void
  init(_ body: @escaping () -> Void) { self.body = body }
}
