#include "tokens/pretokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokens/bpe_tokenizer.h"

namespace ferrograph {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Pieces(std::string_view encoding, std::string_view text) {
  auto t = BpeTokenizer::Get(encoding);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::string> out;
  (*t)->pretokenizer().ForEachPiece(text, [&](std::string_view p) { out.emplace_back(p); });
  EXPECT_EQ((*t)->CountPieces(text), out.size());
  return out;
}

TEST(PreTokenizerTest, Cl100kSplitsLikeTiktoken) {
  EXPECT_THAT(Pieces("cl100k_base", "Hello world"), ElementsAre("Hello", " world"));
  EXPECT_THAT(Pieces("cl100k_base", "12345"), ElementsAre("123", "45"));
  EXPECT_THAT(Pieces("cl100k_base", "I'm HE'LL"), ElementsAre("I", "'m", " HE", "'LL"));
  EXPECT_THAT(Pieces("cl100k_base", "a  b"), ElementsAre("a", " ", " b"));
  EXPECT_THAT(Pieces("cl100k_base", "a  "), ElementsAre("a", "  "));
  EXPECT_THAT(Pieces("cl100k_base", "x\n\n  y"), ElementsAre("x", "\n\n", " ", " y"));
  EXPECT_THAT(Pieces("cl100k_base", "f(x);\n"), ElementsAre("f", "(x", ");\n"));
  EXPECT_THAT(Pieces("cl100k_base", "\tfoo"), ElementsAre("\tfoo"));
}

TEST(PreTokenizerTest, O200kSplitsCaseChanges) {
  EXPECT_THAT(Pieces("o200k_base", "HelloWorld"), ElementsAre("Hello", "World"));
  EXPECT_THAT(Pieces("o200k_base", "parse_u32"), ElementsAre("parse", "_u", "32"));
  EXPECT_THAT(Pieces("o200k_base", "it's a/b//\n"), ElementsAre("it's", " a", "/b", "//\n"));
}

TEST(PreTokenizerTest, R50kKeepsDigitRunsWhole) {
  EXPECT_THAT(Pieces("r50k_base", "12345 abc"), ElementsAre("12345", " abc"));
  // Contractions are case-sensitive in r50k.
  EXPECT_THAT(Pieces("r50k_base", "I'M"), ElementsAre("I", "'", "M"));
}

TEST(PreTokenizerTest, WhitespaceIsUnicodeWhiteSpaceNotPcre2s) {
  // U+180E is no longer White_Space (Unicode 6.3), but PCRE2's \s takes it.
  EXPECT_THAT(Pieces("cl100k_base", "\u180E\u180Ex"), ElementsAre("\u180E\u180E", "x"));
  // U+3000 and U+2003 are white space.
  EXPECT_THAT(Pieces("cl100k_base", "a\u3000\u3000b"), ElementsAre("a", "\u3000", "\u3000b"));
}

TEST(PreTokenizerTest, PiecesCoverTheText) {
  const std::string text =
      "fn main() {\n    let v: Vec<u8> = vec![1, 2, 3];\n\n\tprintln!(\"{v:?} "
      "\u00e9\U0001F600\");\n}"
      "\n   \n";
  for (std::string_view enc : BpeTokenizer::EncodingNames()) {
    std::string joined;
    for (const std::string& p : Pieces(enc, text)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text) << enc;
  }
}

TEST(PreTokenizerTest, BadPatternIsInvalidArgument) {
  auto p = PreTokenizer::Create("(unclosed");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("offset"));
}

TEST(PreTokenizerTest, GapsBetweenMatchesAreSkippedAndEmptyMatchesMoveOn) {
  auto digits = PreTokenizer::Create(R"(\d+)");
  ASSERT_TRUE(digits.ok());
  std::vector<std::string> out;
  (*digits)->ForEachPiece("a12b345c", [&](std::string_view p) { out.emplace_back(p); });
  EXPECT_THAT(out, ElementsAre("12", "345"));

  auto empty = PreTokenizer::Create(R"(x*)");
  ASSERT_TRUE(empty.ok());
  out.clear();
  (*empty)->ForEachPiece("ab\u00e9", [&](std::string_view p) { out.emplace_back(p); });
  EXPECT_THAT(out, ElementsAre("a", "b", "\u00e9"));
}

}  // namespace
}  // namespace ferrograph
