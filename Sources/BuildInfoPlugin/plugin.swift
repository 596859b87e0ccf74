import Foundation
import PackagePlugin

/// Writes `BuildInfo.commit` before every build of the BuildInfo target: the git
/// commit of the package checkout, with ", modified" when tracked files differ from
/// it, or "" when the source is no git checkout (a tarball). A prebuild command
/// because only those run each build; the file is rewritten only when its text
/// changes, so an unchanged commit rebuilds nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let output = context.pluginWorkDirectoryURL.appending(path: "generated")
    return [
      .prebuildCommand(
        displayName: "BuildInfo: git commit",
        executable: URL(filePath: "/bin/sh"),
        arguments: [
          "-c", Self.script, "buildinfo", context.package.directoryURL.path(),
          output.appending(path: "Commit.swift").path(),
        ],
        outputFilesDirectory: output)
    ]
  }

  /// $1 the package directory, $2 the Swift file to write.
  static let script = """
    set -u
    commit=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null) || commit=
    if [ -n "$commit" ] && [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
      commit="$commit, modified"
    fi
    text="extension BuildInfo { public static let commit = \\"$commit\\" }"
    mkdir -p "$(dirname "$2")"
    [ -f "$2" ] && [ "$(cat "$2")" = "$text" ] || printf '%s\\n' "$text" > "$2"
    """
}
