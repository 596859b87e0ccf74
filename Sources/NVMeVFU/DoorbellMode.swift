/// How the client reaches BAR0's doorbells.
public enum DoorbellMode: String, Sendable, CaseIterable {
  /// Not mmappable: every doorbell write is a REGION_WRITE message (QEMU
  /// posts it: no reply awaited), which wakes a sleeping reactor at once.
  /// With shadow doorbells and EventIdx the host writes the real doorbell
  /// only when the server asked to be told, so a busy queue costs about one
  /// message per ring wrap. The reactor can then sleep with no timeout.
  case trapped
  /// The doorbell page is sparse-mmapped into the client: a doorbell is a
  /// store into shared memory, no message, but a store wakes nobody, so an
  /// idle reactor looks again on a timer (`IdlePolicy`). For clients that
  /// need the page mapped (SPDK's initiator) and for `--poll busy`.
  case mapped
}
