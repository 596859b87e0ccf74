import Testing

@testable import BenchKit

@Suite struct IRQCoalescingOptionTests {
  @Test func parsesThresholdAndTime() throws {
    let option = try #require(IRQCoalescingOption(argument: "15:3"))
    #expect(option.threshold == 15)
    #expect(option.time == 3)
    #expect(option.cdw11 == 0x030F)
    #expect(option.text == "15:3")
  }

  @Test(arguments: ["", "1", "1:", ":1", "1:2:3", "256:0", "0:256", "-1:0", "a:b"])
  func refusesAnythingElse(_ text: String) {
    #expect(IRQCoalescingOption(argument: text) == nil)
  }
}
