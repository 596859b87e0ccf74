/// VERSION payloads: what real clients send, the limits, and the ways the
/// JSON can be wrong.
enum VersionSeeds {
  static func payload(major: UInt16 = 0, minor: UInt16 = 1, _ json: String?, nul: Bool = true)
    -> [UInt8]
  {
    le(major) + le(minor) + (json.map { Array($0.utf8) + (nul ? [0] : []) } ?? [])
  }

  static var all: [(name: String, bytes: [UInt8])] {
    [
      ("qemu", le(UInt16(0)) + le(UInt16(0)) + StreamInput.qemuJSON),
      ("spdk-no-json", payload(nil)),
      ("empty-object", payload("{}")),
      ("empty-capabilities", payload(#"{"capabilities":{}}"#)),
      (
        "limits",
        payload(
          #"{"capabilities":{"max_msg_fds":1024,"max_data_xfer_size":67108864,"pgsizes":1075843072,"max_dma_maps":1048576,"write_multiple":false}}"#
        )
      ),
      (
        "beyond-limits",
        payload(#"{"capabilities":{"max_msg_fds":1025,"max_data_xfer_size":0,"max_dma_maps":0}}"#)
      ),
      ("wrong-types", payload(#"{"capabilities":{"max_msg_fds":"16","write_multiple":1}}"#)),
      ("no-4k-pages", payload(#"{"capabilities":{"pgsizes":2097152}}"#)),
      (
        "unknown-keys",
        payload(
          #"{"version":{"x":[1,2,{"y":null}]},"capabilities":{"future":true,"migration":{}}}"#)
      ),
      ("major-1", payload(major: 1, minor: 0, #"{"capabilities":{}}"#)),
      ("no-nul", payload(#"{"capabilities":{}}"#, nul: false)),
      ("after-nul", payload(#"{}"#) + Array("{}".utf8) + [0]),
      (
        "numbers",
        payload(
          #"{"capabilities":{"max_msg_fds":-1,"pgsizes":4.096e3,"max_dma_maps":18446744073709551616}}"#
        )
      ),
      ("escapes", payload(#"{"capabilities":{"max_\u006dsg_fds":8,"\u0000":1}}"#)),
      ("nesting", payload(String(repeating: "[", count: 600) + String(repeating: "]", count: 600))),
      ("not-object", payload(#"[{"capabilities":{}}]"#)),
      ("not-utf8", le(UInt16(0)) + le(UInt16(0)) + [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0]),
    ]
  }
}
