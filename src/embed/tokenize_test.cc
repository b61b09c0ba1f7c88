#include "embed/tokenize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace ferrograph {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SplitIdentifierTest, DocumentedExamples) {
  EXPECT_THAT(SplitIdentifier("HashMapIter"), ElementsAre("hash", "map", "iter"));
  EXPECT_THAT(SplitIdentifier("parse_u32"), ElementsAre("parse", "u32"));
  EXPECT_THAT(SplitIdentifier("HTTPServer"), ElementsAre("http", "server"));
  EXPECT_THAT(SplitIdentifier("is_ascii_digit"), ElementsAre("is", "ascii", "digit"));
}

TEST(SplitIdentifierTest, CaseChanges) {
  EXPECT_THAT(SplitIdentifier("hashMap"), ElementsAre("hash", "map"));
  EXPECT_THAT(SplitIdentifier("IOError"), ElementsAre("io", "error"));
  EXPECT_THAT(SplitIdentifier("parseHTTP"), ElementsAre("parse", "http"));
  EXPECT_THAT(SplitIdentifier("MAX_SIZE"), ElementsAre("max", "size"));
  EXPECT_THAT(SplitIdentifier("A"), ElementsAre("a"));
  EXPECT_THAT(SplitIdentifier("Ab"), ElementsAre("ab"));
}

TEST(SplitIdentifierTest, DigitsStayWithTheLettersBefore) {
  EXPECT_THAT(SplitIdentifier("utf8"), ElementsAre("utf8"));
  EXPECT_THAT(SplitIdentifier("Utf8Error"), ElementsAre("utf8", "error"));
  EXPECT_THAT(SplitIdentifier("u8x16"), ElementsAre("u8", "x16"));
  EXPECT_THAT(SplitIdentifier("sha256sum"), ElementsAre("sha256", "sum"));
  EXPECT_THAT(SplitIdentifier("HTTP2Server"), ElementsAre("http2", "server"));
  EXPECT_THAT(SplitIdentifier("x86_64"), ElementsAre("x86", "64"));
}

TEST(SplitIdentifierTest, UnderscoresAtEdgesAndDoubled) {
  EXPECT_THAT(SplitIdentifier("__init__"), ElementsAre("init"));
  EXPECT_THAT(SplitIdentifier("a__b"), ElementsAre("a", "b"));
  EXPECT_THAT(SplitIdentifier("_"), IsEmpty());
  EXPECT_THAT(SplitIdentifier(""), IsEmpty());
}

TEST(SplitIdentifierTest, NonAsciiStaysInsideWords) {
  // "größe_max": the UTF-8 bytes count as lower-case letters.
  EXPECT_THAT(SplitIdentifier("gr\xC3\xB6\xC3\x9F"
                              "e_max"),
              ElementsAre("gr\xC3\xB6\xC3\x9F"
                          "e",
                          "max"));
  EXPECT_THAT(SplitIdentifier("\xC3\xA9t\xC3\xA9Value"), ElementsAre("\xC3\xA9t\xC3\xA9", "value"));
}

TEST(CodeWordsTest, IdentifierWholeThenItsParts) {
  EXPECT_THAT(CodeWords("fn parse_unicode_class(&self) -> Result<ClassUnicode>"),
              ElementsAre("fn", "parse_unicode_class", "parse", "unicode", "class", "self",
                          "result", "classunicode", "class", "unicode"));
}

TEST(CodeWordsTest, ProseWordsLowerCased) {
  EXPECT_THAT(CodeWords("/// Parses a Unicode class, e.g. `\\pL`."),
              ElementsAre("parses", "a", "unicode", "class", "e", "g", "pl", "p", "l"));
}

TEST(CodeWordsTest, NumbersAreSkippedWhole) {
  EXPECT_THAT(CodeWords("let x = 0xff + 1u32 + 42;"), ElementsAre("let", "x"));
  EXPECT_THAT(CodeWords("a1 b2"), ElementsAre("a1", "b2"));
}

TEST(CodeWordsTest, LeadingUnderscoreGivesTheBareWordToo) {
  EXPECT_THAT(CodeWords("_private _ __"), ElementsAre("_private", "private"));
}

TEST(CodeWordsTest, EmptyAndSeparatorsOnly) {
  EXPECT_THAT(CodeWords(""), IsEmpty());
  EXPECT_THAT(CodeWords("  (){}[];:,.<>!? \n\t"), IsEmpty());
}

TEST(CodeWordsTest, NonAsciiWordsKept) {
  EXPECT_THAT(CodeWords("caf\xC3\xA9 na\xC3\xAFve"), ElementsAre("caf\xC3\xA9", "na\xC3\xAFve"));
}

TEST(CodeWordsTest, VeryLongRunsAreCutNotDropped) {
  std::string ident(1000, 'a');
  std::vector<std::string> words = CodeWords(ident);
  size_t total = 0;
  for (const std::string& w : words) total += w.size();
  EXPECT_EQ(total, 1000u);
}

TEST(ForEachIdentifierTest, MatchesCodeWords) {
  const std::string text =
      "impl<'a> Parser<'a> { fn next_char(&mut self) -> Option<char> { None } }";
  std::vector<std::string> visited;
  ForEachIdentifier(text, [&](std::string_view whole, const std::string_view* parts, size_t n) {
    visited.emplace_back(whole);
    if (n > 1 || parts[0] != whole) {
      for (size_t i = 0; i < n; ++i) visited.emplace_back(parts[i]);
    }
  });
  EXPECT_EQ(visited, CodeWords(text));
}

}  // namespace
}  // namespace ferrograph
