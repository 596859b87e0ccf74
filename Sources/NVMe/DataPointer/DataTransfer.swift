/// Copies between a host buffer and a command's guest segments, for commands
/// whose data the controller produces or consumes itself (Identify, Get Log
/// Page, Set Features data, ...). Bulk I/O builds iovecs instead.
public enum DataTransfer {
  /// Controller-to-host: writes `source` along `segments`. Bit buckets
  /// swallow their share of `source`. Stops at whichever ends first and
  /// returns the bytes of `source` consumed.
  @discardableResult
  public static func copyToGuest(
    _ source: UnsafeRawBufferPointer, segments: [DataSegment], memory: some GuestMemory
  ) throws(NVMeStatus) -> Int {
    var done = 0
    for segment in segments {
      let left = source.count &- done
      guard left > 0 else { break }
      let count = min(left, max(0, segment.length))
      if !segment.isBitBucket {
        let piece = UnsafeRawBufferPointer(rebasing: source[done..<(done &+ count)])
        do { try memory.write(segment.address, from: piece) } catch {
          throw .dataTransferError
        }
      }
      done &+= count
    }
    return done
  }

  @discardableResult
  public static func copyToGuest(
    _ source: [UInt8], segments: [DataSegment], memory: some GuestMemory
  ) throws(NVMeStatus) -> Int {
    var result: Result<Int, NVMeStatus> = .success(0)
    source.withUnsafeBytes { raw in
      do throws(NVMeStatus) {
        result = .success(try copyToGuest(raw, segments: segments, memory: memory))
      } catch {
        result = .failure(error)
      }
    }
    return try result.get()
  }

  /// Host-to-controller: fills `destination` from `segments`. Bit buckets have
  /// no meaning here and are refused (SGL Descriptor Type Invalid). Returns
  /// the bytes filled.
  @discardableResult
  public static func copyFromGuest(
    segments: [DataSegment], into destination: UnsafeMutableRawBufferPointer,
    memory: some GuestMemory
  ) throws(NVMeStatus) -> Int {
    var done = 0
    for segment in segments {
      guard !segment.isBitBucket else { throw .sglDescriptorTypeInvalid }
      let left = destination.count &- done
      guard left > 0 else { break }
      let count = min(left, max(0, segment.length))
      let piece = UnsafeMutableRawBufferPointer(rebasing: destination[done..<(done &+ count)])
      do { try memory.read(segment.address, into: piece) } catch {
        throw .dataTransferError
      }
      done &+= count
    }
    return done
  }

  /// Reads up to `length` bytes from `segments` into a new array.
  public static func copyFromGuest(
    segments: [DataSegment], length: Int, memory: some GuestMemory
  ) throws(NVMeStatus) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(0, length))
    var result: Result<Int, NVMeStatus> = .success(0)
    bytes.withUnsafeMutableBytes { raw in
      do throws(NVMeStatus) {
        result = .success(try copyFromGuest(segments: segments, into: raw, memory: memory))
      } catch {
        result = .failure(error)
      }
    }
    let filled = try result.get()
    return Array(bytes.prefix(filled))
  }
}
