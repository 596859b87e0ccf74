import Control

/// `--human`: arrays of objects as tables (one column per key, in the order
/// of the first row's sorted keys), other values as `key: value` lines.
enum HumanOutput {
  static func render(_ value: JSONValue, indent: String = "") -> String {
    switch value {
    case .object(let members):
      var lines: [String] = []
      for key in members.keys.sorted() {
        guard let member = members[key] else { continue }
        switch member {
        case .array(let rows) where rows.allSatisfy({ $0.objectValue != nil }) && !rows.isEmpty:
          lines.append("\(indent)\(key):")
          lines.append(table(rows, indent: indent + "  "))
        case .object:
          lines.append("\(indent)\(key):")
          lines.append(render(member, indent: indent + "  "))
        default:
          lines.append("\(indent)\(key): \(scalar(member))")
        }
      }
      return lines.joined(separator: "\n")
    case .array(let rows) where rows.allSatisfy({ $0.objectValue != nil }) && !rows.isEmpty:
      return table(rows, indent: indent)
    default:
      return indent + scalar(value)
    }
  }

  static func scalar(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): text
    case .object(let members):
      members.keys.sorted().map { "\($0)=\(members[$0].map(scalar) ?? "")" }.joined(
        separator: " ")
    default: value.serialized()
    }
  }

  static func table(_ rows: [JSONValue], indent: String) -> String {
    let objects = rows.compactMap(\.objectValue)
    let columns = (objects.first?.keys.sorted() ?? [])
    let cells = objects.map { row in columns.map { row[$0].map(scalar) ?? "" } }
    let widths = columns.indices.map { column in
      max(columns[column].count, cells.map { $0[column].count }.max() ?? 0)
    }
    func line(_ values: [String]) -> String {
      indent
        + zip(values, widths).map { value, width in
          String(repeating: " ", count: max(0, width - value.count)) + value
        }.joined(separator: "  ")
    }
    return ([line(columns)] + cells.map(line)).joined(separator: "\n")
  }
}
