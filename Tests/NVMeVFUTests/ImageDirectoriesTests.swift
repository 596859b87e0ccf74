import Testing

@testable import NVMeVFU

/// The lexical --image-dir check namespace_add makes before opening a file.
@Suite struct ImageDirectoriesTests {
  let directories = ImageDirectories(
    spellings: ["/srv/images", "/data/real"], workingDirectory: "/srv")

  @Test func pathsAreMadeAbsoluteWithoutDotComponents() {
    #expect(ImageDirectories.normalized("a.img", in: "/srv/images") == "/srv/images/a.img")
    #expect(ImageDirectories.normalized("/srv//images/./a.img", in: "/") == "/srv/images/a.img")
    #expect(ImageDirectories.normalized("/srv/images/../etc/passwd", in: "/") == nil)
    #expect(ImageDirectories.normalized("..", in: "/srv") == nil)
  }

  @Test func onlyPathsBeneathADirectoryAreTaken() {
    #expect(directories.refusal(of: "/srv/images/vm1.img") == nil)
    #expect(directories.refusal(of: "images/sub/vm1.img") == nil)  // relative to /srv
    #expect(directories.refusal(of: "/data/real/x") == nil)
    // A sibling whose name starts the same is not beneath it.
    #expect(directories.refusal(of: "/srv/images2/vm1.img") != nil)
    #expect(directories.refusal(of: "/srv/images") != nil)
    #expect(directories.refusal(of: "/etc/shadow") != nil)
    #expect(directories.refusal(of: "/srv/images/../../etc/shadow") != nil)
  }

  @Test func withNoDirectoryEveryFileIsRefused() {
    let why = ImageDirectories.none.refusal(of: "/srv/images/vm1.img")
    #expect(why?.contains("none is given") == true)
  }
}
