import Testing

@testable import BenchKit

@Suite struct FormatTests {
  @Test func fixedRoundsHalfAwayFromZero() {
    #expect(Format.fixed(1.005, 1) == "1.0")
    #expect(Format.fixed(2.25, 1) == "2.3")
    #expect(Format.fixed(-2.25, 1) == "-2.3")
    #expect(Format.fixed(3.14159, 3) == "3.142")
    #expect(Format.fixed(0.05, 2) == "0.05")
    #expect(Format.fixed(7, 0) == "7")
    #expect(Format.fixed(12.5, 0) == "13")
  }

  @Test func fixedPadsTheFraction() {
    #expect(Format.fixed(1.5, 3) == "1.500")
    #expect(Format.fixed(0.001, 3) == "0.001")
  }

  @Test func fixedHandlesEdgeValues() {
    #expect(Format.fixed(.nan, 2) == "0")
    #expect(Format.fixed(.infinity, 2) == "0")
    #expect(Format.fixed(-0.0001, 2) == "0.00", "no minus sign on a rounded zero")
    #expect(Format.fixed(1e30, 2) == "\(1e30)", "too large for the integer path")
  }

  @Test func countUsesKAndM() {
    #expect(Format.count(1_234_567) == "1.23M")
    #expect(Format.count(245_300) == "245.3k")
    #expect(Format.count(999) == "999")
    #expect(Format.count(1000) == "1.0k")
  }

  @Test func hexAndPad() {
    #expect(Format.hex(UInt16(0x1B36)) == "0x1b36")
    #expect(Format.hex(0) == "0x0")
    #expect(Format.pad("ab", 5) == "ab   ")
    #expect(Format.pad("abcdef", 3) == "abcdef")
  }

  @Test func jsonStringEscapes() {
    #expect(Format.jsonString("plain") == "\"plain\"")
    #expect(Format.jsonString("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"")
    #expect(Format.jsonString("\u{01}\u{1F}") == "\"\\u0001\\u001f\"")
    #expect(Format.jsonString("é") == "\"é\"")
  }
}
