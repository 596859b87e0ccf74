import BenchKit
import Testing

@Suite struct DurationArgumentTests {
  @Test func unitsAsFioWritesThem() {
    #expect(DurationArgument.seconds("5s") == 5)
    #expect(DurationArgument.seconds("500ms") == 0.5)
    #expect(DurationArgument.seconds("2m") == 120)
    #expect(DurationArgument.seconds("1h") == 3600)
    #expect(DurationArgument.seconds("250us") == 0.000_25)
    #expect(DurationArgument.seconds("1.5S") == 1.5)
  }

  @Test func plainNumbersAreTheDefaultUnit() {
    #expect(DurationArgument.seconds("10") == 10)
    #expect(DurationArgument.seconds("0.25") == 0.25)
    #expect(DurationArgument.seconds("0") == 0)
    #expect(DurationArgument.seconds("20000", defaultUnit: .microseconds) == 0.02)
    #expect(DurationArgument.seconds("20ms", defaultUnit: .microseconds) == 0.02)
  }

  @Test func rejectsWhatIsNotADuration() {
    for text in ["", "s", "5x", "-1s", "-1", "1e3", "inf", "nan", "5 s", "ms5", "1.2.3s"] {
      #expect(DurationArgument.seconds(text) == nil, "\(text)")
    }
  }

  @Test func textForReports() {
    #expect(DurationArgument.text(seconds: 10) == "10s")
    #expect(DurationArgument.text(seconds: 0.5) == "500ms")
    #expect(DurationArgument.text(seconds: 2.5) == "2.5s")
  }
}
