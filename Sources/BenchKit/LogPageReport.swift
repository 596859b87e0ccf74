import NVMe

/// Log pages printed the way `nvme smart-log` and `nvme error-log` print
/// them, with nvme-cli's field names, one `name : value` a line.
public enum LogPageReport {
  /// SMART / Health Information (LID 02h, 512 bytes).
  public static func smart(_ page: [UInt8]) -> String {
    let bytes = LittleEndianBytes(page)
    let kelvin = Int(bytes.u16(1))
    var rows: [(String, String)] = [
      ("critical_warning", "\(bytes.u8(0))"),
      ("temperature", "\(kelvin - 273) C (\(kelvin) Kelvin)"),
      ("available_spare", "\(bytes.u8(3))%"),
      ("available_spare_threshold", "\(bytes.u8(4))%"),
      ("percentage_used", "\(bytes.u8(5))%"),
      ("endurance_grp_critical_warning_summary", "\(bytes.u8(6))"),
      ("data_units_read", bytes.u128(32)),
      ("data_units_written", bytes.u128(48)),
      ("host_read_commands", bytes.u128(64)),
      ("host_write_commands", bytes.u128(80)),
      ("controller_busy_time", bytes.u128(96)),
      ("power_cycles", bytes.u128(112)),
      ("power_on_hours", bytes.u128(128)),
      ("unsafe_shutdowns", bytes.u128(144)),
      ("media_errors", bytes.u128(160)),
      ("num_err_log_entries", bytes.u128(176)),
      ("warning_temp_time", "\(bytes.u32(192))"),
      ("critical_comp_time", "\(bytes.u32(196))"),
    ]
    for sensor in 0..<8 {
      let value = Int(bytes.u16(200 + sensor * 2))
      guard value != 0 else { continue }
      rows.append(("temperature_sensor_\(sensor + 1)", "\(value - 273) C (\(value) Kelvin)"))
    }
    return (["Smart Log for NVME device:nvme-vfu namespace-id:ffffffff"] + lines(rows))
      .joined(separator: "\n")
  }

  /// Error Information (LID 01h): 64-byte entries; those with an error
  /// count of 0 are unused and left out.
  public static func errors(_ page: [UInt8]) -> String {
    let count = page.count / ErrorInformationEntry.size
    var out = ["Error Log Entries for device:nvme-vfu entries:\(count)"]
    var shown = 0
    for index in 0..<count {
      let entry = LittleEndianBytes(page, offset: index * ErrorInformationEntry.size)
      let errorCount = entry.u64(0)
      guard errorCount != 0 else { continue }
      shown += 1
      let field = entry.u16(12)
      let status = NVMeStatus(encoded: field >> 1)
      out.append(".................")
      out.append(" Entry[\(index < 10 ? " " : "")\(index)]")
      out.append(".................")
      out += lines([
        ("error_count", "\(errorCount)"),
        ("sqid", "\(entry.u16(8))"),
        ("cmdid", Format.hex(entry.u16(10))),
        ("status_field", "\(Format.hex(field >> 1))(\(status))"),
        ("phase_tag", "\(field & 1)"),
        ("parm_err_loc", Format.hex(entry.u16(14))),
        ("lba", "\(entry.u64(16))"),
        ("nsid", Format.hex(entry.u32(24))),
        ("vs", "\(entry.u8(28))"),
        ("trtype", "\(entry.u8(29))"),
        ("csi", "\(entry.u8(30))"),
        ("cs", "\(entry.u64(32))"),
        ("trtype_spec_info", "\(entry.u16(40))"),
      ])
    }
    if shown == 0 { out.append("no error log entries") } else { out.append(".................") }
    return out.joined(separator: "\n")
  }

  private static func lines(_ rows: [(String, String)]) -> [String] {
    let width = rows.map(\.0.count).max() ?? 0
    return rows.map { "\(Format.pad($0.0, width)) : \($0.1)" }
  }
}

/// Little-endian fields of a page; bytes past its end read as zero.
private struct LittleEndianBytes {
  let page: [UInt8]
  let offset: Int

  init(_ page: [UInt8], offset: Int = 0) {
    self.page = page
    self.offset = offset
  }

  func u8(_ at: Int) -> UInt8 {
    let index = offset + at
    return index >= 0 && index < page.count ? page[index] : 0
  }

  func value(_ at: Int, width: Int) -> UInt64 {
    (0..<width).reduce(UInt64(0)) { $0 | UInt64(u8(at + $1)) << (8 * $1) }
  }

  func u16(_ at: Int) -> UInt16 { UInt16(truncatingIfNeeded: value(at, width: 2)) }
  func u32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: value(at, width: 4)) }
  func u64(_ at: Int) -> UInt64 { value(at, width: 8) }

  /// A 128-bit counter in decimal (the high half is shown only when set).
  func u128(_ at: Int) -> String {
    let low = u64(at)
    let high = u64(at + 8)
    guard high != 0 else { return "\(low)" }
    return "\(UInt128(high) << 64 | UInt128(low))"
  }
}
