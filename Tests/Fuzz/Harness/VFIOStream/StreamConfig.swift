/// The first two bytes of a vfio-stream input: the device the server
/// serves, and how the fake client answers the server's DMA requests.
struct StreamConfig {
  enum Backing { case memory, null, twoNamespaces, bigBlocks }

  var backing: Backing
  /// DMA_READ/DMA_WRITE in the layout of QEMU's earlier patch revisions.
  var qemuLayout: Bool
  /// The server's defaults (16 queue pairs of 1024) or a small controller.
  var smallController: Bool
  /// How the client misanswers a DMA request it picked (see `ClientPeer`).
  var misbehaviour: UInt8
  /// The other nested command for misbehaviours 6 and 7.
  var alternateNested: Bool
  /// Bit i: the client misanswers DMA requests number i, i + 8, ...
  var misbehaviourPattern: UInt8

  init(_ cursor: inout ByteCursor) {
    let b0 = cursor.u8()
    misbehaviourPattern = cursor.u8()
    backing = [.memory, .null, .twoNamespaces, .bigBlocks][Int(b0 & 3)]
    qemuLayout = b0 & 4 != 0
    smallController = b0 & 8 == 0
    misbehaviour = b0 >> 4 & 7
    alternateNested = b0 & 0x80 != 0
  }
}
