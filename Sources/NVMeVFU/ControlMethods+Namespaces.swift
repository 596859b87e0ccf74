import Control

extension ControlMethods {
  /// namespace_add, namespace_remove, namespace_resize, set_qos, get_qos.
  static let namespaceMethods: [String: Method] = [:]
}
