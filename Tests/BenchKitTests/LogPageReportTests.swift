import BenchKit
import Foundation
import NVMe
import Testing

/// `smart-log` and `error-log` from pages the controller model encodes,
/// with nvme-cli's field names.
@Suite struct LogPageReportTests {
  static func value(_ text: String, _ name: String) -> String? {
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else {
        continue
      }
      return String(parts[1].dropFirst())
    }
    return nil
  }

  @Test func smartLogFields() {
    var log = SmartHealthLog()
    log.criticalWarning = SmartHealthLog.CriticalWarning.readOnly
    log.dataUnitsRead = 12
    log.dataUnitsWritten = 34
    log.hostReadCommands = 5600
    log.hostWriteCommands = 7800
    log.powerCycles = 3
    log.mediaErrors = 2
    log.errorLogEntries = 9
    log.temperatureSensors = [300]
    let text = LogPageReport.smart(log.encode())
    #expect(text.hasPrefix("Smart Log for NVME device:nvme-vfu namespace-id:ffffffff\n"))
    let expected: [(String, String)] = [
      ("critical_warning", "8"), ("temperature", "37 C (310 Kelvin)"),
      ("available_spare", "100%"), ("available_spare_threshold", "10%"),
      ("percentage_used", "0%"), ("data_units_read", "12"), ("data_units_written", "34"),
      ("host_read_commands", "5600"), ("host_write_commands", "7800"),
      ("controller_busy_time", "0"), ("power_cycles", "3"), ("power_on_hours", "0"),
      ("unsafe_shutdowns", "0"), ("media_errors", "2"), ("num_err_log_entries", "9"),
      ("warning_temp_time", "0"), ("critical_comp_time", "0"),
      ("temperature_sensor_1", "27 C (300 Kelvin)"),
    ]
    for (name, value) in expected {
      #expect(Self.value(text, name) == value, "\(name)")
    }
    #expect(Self.value(text, "temperature_sensor_2") == nil, "unimplemented sensors left out")
  }

  @Test func errorLogEntries() {
    var log = ErrorLog(capacity: 4)
    log.record(
      ErrorInformationEntry(
        submissionQueueID: 1, commandID: 0x2A, status: NVMeStatus.namespaceWriteProtected.encoded,
        lba: 4096, namespaceID: 1))
    let text = LogPageReport.errors(log.encode())
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines.first == "Error Log Entries for device:nvme-vfu entries:4")
    #expect(lines.filter { $0.hasPrefix(" Entry[") } == [" Entry[ 0]"], "unused entries left out")
    let expected: [(String, String)] = [
      ("error_count", "1"), ("sqid", "1"), ("cmdid", "0x2a"),
      ("status_field", "0x4020(Namespace is Write Protected (0x20))"), ("phase_tag", "0"),
      ("parm_err_loc", "0xffff"), ("lba", "4096"), ("nsid", "0x1"),
    ]
    for (name, value) in expected {
      #expect(Self.value(text, name) == value, "\(name)")
    }
  }

  @Test func anEmptyErrorLogSaysSo() {
    let text = LogPageReport.errors(ErrorLog(capacity: 2).encode())
    #expect(text == "Error Log Entries for device:nvme-vfu entries:2\nno error log entries")
  }
}
