/// What `--version` prints: the package's version, kept here by hand and raised with
/// each release, and the git commit it was built from (`commit`, written at build
/// time by the BuildInfoPlugin).
public enum BuildInfo {
  public static let version = "0.26.0"

  /// "0.26.0 (git 1a2b3c4d5e6f)", "... (git 1a2b3c4d5e6f, modified)" for a build with
  /// uncommitted changes, "0.26.0" where the source is no git checkout.
  public static var versionLine: String {
    commit.isEmpty ? version : "\(version) (git \(commit))"
  }
}
