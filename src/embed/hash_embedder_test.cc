#include "embed/hash_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace ferrograph {
namespace {

float Dot(const float* a, const float* b, int dim) {
  double s = 0;
  for (int i = 0; i < dim; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

std::vector<float> EmbedOrDie(Embedder& e, const std::vector<std::string>& texts) {
  Result<std::vector<float>> r = e.Embed(texts);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<float>(texts.size() * e.dim());
}

float Cosine(Embedder& e, const std::string& a, const std::string& b) {
  std::vector<float> v = EmbedOrDie(e, {a, b});
  return Dot(v.data(), v.data() + e.dim(), e.dim());
}

TEST(HashEmbedderTest, ModelIdAndDimension) {
  auto e = MakeHashEmbedder();
  EXPECT_EQ(e->model_id(), "hash-v2-384");
  EXPECT_EQ(e->dim(), 384);
  HashEmbedderOptions o;
  o.stem = false;
  o.seed = 7;
  EXPECT_EQ(HashEmbedderModelId(o), "hash-v2-384-nostem-seed7");
  EXPECT_EQ(EmbedOrDie(*e, {"a b", "c"}).size(), 2u * 384);
}

// |v|^2 = s / (s + 10) for a text whose features sum to a vector of squared
// length s: below 1, longer with more evidence, near 1 for a whole function;
// zero without features.
TEST(HashEmbedderTest, RowsAreShorterThanOneTheLessEvidenceTheyHaveOrZero) {
  auto e = MakeHashEmbedder();
  const std::string function =
      "/// Parses a Unicode class such as `\\pL` or `\\p{Greek}` and returns it.\n"
      "fn parse_unicode_class(&mut self) -> Result<ClassUnicode> {\n"
      "  let negated = self.char() == 'P';\n  self.bump_and_bump_space();\n"
      "  let kind = self.parse_unicode_class_kind()?;\n  Ok(ClassUnicode { negated, kind })\n}";
  std::vector<std::string> texts = {"parse", "parse unicode", "parse_unicode_class(&mut self)",
                                    function};
  std::vector<float> v = EmbedOrDie(*e, texts);
  float previous = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const float squared = Dot(v.data() + i * 384, v.data() + i * 384, 384);
    EXPECT_GT(squared, previous) << texts[i];
    EXPECT_LT(squared, 1.0f) << texts[i];
    previous = squared;
  }
  // One token and its five 3-grams: s = 1 + 5 * 0.35^2 unless two collide.
  EXPECT_NEAR(Dot(v.data(), v.data(), 384), 1.6125 / 11.6125, 0.05);
  EXPECT_GT(previous, 0.8f) << "a whole function has plenty of evidence (s = 60)";

  std::vector<std::string> empty = {"", "   ;;; {} 42", "the a of", "x"};
  std::vector<float> z = EmbedOrDie(*e, empty);
  for (size_t i = 0; i < empty.size(); ++i) {
    EXPECT_EQ(Dot(z.data() + i * 384, z.data() + i * 384, 384), 0.0f) << empty[i];
  }
}

TEST(HashEmbedderTest, DeterministicAcrossInstancesAndBatches) {
  const std::string text =
      "/// Returns the next char.\nfn next_char(&self) -> char { self.char() }";
  auto a = MakeHashEmbedder();
  auto b = MakeHashEmbedder();
  std::vector<float> one = EmbedOrDie(*a, {text});
  std::vector<float> batch = EmbedOrDie(*b, {"something else entirely", text, ""});
  for (int i = 0; i < 384; ++i) ASSERT_EQ(one[i], batch[384 + i]) << i;
}

// Pins the feature hash and the embedding of a fixed text: a change here
// changes every stored vector and must come with a new model id.
TEST(HashEmbedderTest, StableAcrossPlatformsAndReleases) {
  EXPECT_EQ(FeatureHash64("parse", 0), 0x39459209aef1db4fu);
  EXPECT_EQ(FeatureHash64("a longer feature string", 12345), 0xa4673c897f447621u);
  auto e = MakeHashEmbedder();
  std::vector<float> v = EmbedOrDie(*e, {"fn parse_unicode_class(&mut self)"});
  double checksum = 0;
  for (int i = 0; i < 384; ++i) checksum += v[i] * (i + 1);
  // v1 (L2-normalized) gave 402.688926: the same direction, scaled by
  // sqrt(s / (s + 10)) = 0.5502 for this text's s = 4.34.
  EXPECT_NEAR(checksum, 221.578267, 1e-3);
}

TEST(StemWordTest, ConflatesCommonInflections) {
  EXPECT_EQ(StemWord("parse"), StemWord("parsing"));
  EXPECT_EQ(StemWord("parse"), StemWord("parses"));
  EXPECT_EQ(StemWord("parse"), StemWord("parsed"));
  EXPECT_EQ(StemWord("class"), StemWord("classes"));
  EXPECT_EQ(StemWord("match"), StemWord("matches"));
  EXPECT_EQ(StemWord("match"), StemWord("matching"));
  EXPECT_EQ(StemWord("entry"), StemWord("entries"));
  EXPECT_EQ(StemWord("map"), StemWord("mapping"));
  EXPECT_EQ(StemWord("embed"), StemWord("embedding"));
  EXPECT_EQ(StemWord("token"), StemWord("tokens"));
  EXPECT_EQ(StemWord("string"), "string");  // not "str"
  EXPECT_EQ(StemWord("class"), "class");
  EXPECT_EQ(StemWord("status"), "status");
  EXPECT_EQ(StemWord("is"), "is");
}

TEST(HashEmbedderTest, SimilarTextsAreCloserThanUnrelated) {
  auto e = MakeHashEmbedder();
  const std::string a = "fn push_literal(&mut self, lit: Literal) { self.literals.push(lit) }";
  const std::string b =
      "fn add_literal(&mut self, literal: Literal) -> bool { self.lits.push(literal) }";
  const std::string c = "fn hex_digit_value(c: char) -> Option<u32> { c.to_digit(16) }";
  EXPECT_GT(Cosine(*e, a, b), Cosine(*e, a, c) + 0.2f);
}

TEST(HashEmbedderTest, QueryFindsTheFunctionNamedByIt) {
  auto e = MakeHashEmbedder();
  const std::string query = "parse a unicode class";
  const std::string target =
      "fn parse_unicode_class(&self) -> Result<ast::ClassUnicode> {\n"
      "    assert!(self.char() == 'p' || self.char() == 'P');\n"
      "    let negated = self.char() == 'P';\n"
      "    self.bump_and_bump_space();\n"
      "}";
  const std::string other =
      "fn parse_octal(&self) -> ast::Literal {\n"
      "    let start = self.pos();\n"
      "    while self.bump() && self.char() >= '0' && self.char() <= '7' {}\n"
      "}";
  EXPECT_GT(Cosine(*e, query, target), Cosine(*e, query, other) + 0.1f);
}

// A small retrieval set: natural-language queries against Rust items. Each
// query names its item; the score is the mean reciprocal rank.
struct Case {
  const char* query;
  int item;
};

const char* const kItems[] = {
    // 0
    "/// Parse a Unicode class in either the single character notation `\\pN`\n"
    "/// or the multi-character bracketed notation `\\p{Greek}`.\n"
    "fn parse_unicode_class(&self) -> Result<ast::ClassUnicode> {\n"
    "    let negated = self.char() == 'P';\n"
    "    let kind = if self.char() == '{' { self.parse_name() } else { self.one_letter() };\n"
    "    Ok(ast::ClassUnicode { span, negated, kind })\n}",
    // 1
    "/// Parse an octal representation of a Unicode codepoint up to 3 digits long.\n"
    "fn parse_octal(&self) -> ast::Literal {\n"
    "    let start = self.pos();\n"
    "    while self.bump() && self.char() >= '0' && self.char() <= '7' {}\n"
    "    let octal = &self.pattern()[start.offset..self.offset()];\n"
    "    let codepoint = u32::from_str_radix(octal, 8).expect(\"valid octal number\");\n}",
    // 2
    "/// Returns true if and only if the given character is a word character.\n"
    "pub fn is_word_character(c: char) -> bool {\n"
    "    if c <= 0x7F as char && is_word_byte(c as u8) { return true; }\n"
    "    PERL_WORD.binary_search_by(|&(start, end)| range_cmp(c, start, end)).is_ok()\n}",
    // 3
    "/// Escapes all regular expression meta characters in `text`.\n"
    "pub fn escape(text: &str) -> String {\n"
    "    let mut quoted = String::new();\n"
    "    escape_into(text, &mut quoted);\n    quoted\n}",
    // 4
    "/// Compile the given regular expression into a program of instructions.\n"
    "pub fn compile(mut self, exprs: &[Hir]) -> result::Result<Program, Error> {\n"
    "    self.compiled.start = self.insts.len();\n"
    "    let patch = self.c_capture(0, expr)?;\n    self.fill_to_next(patch.hole);\n}",
    // 5
    "/// Returns the number of capture groups in this regex.\n"
    "pub fn captures_len(&self) -> usize { self.0.regex_strings().len() }",
    // 6
    "/// Replaces all non-overlapping matches in `text` with the replacement provided.\n"
    "pub fn replace_all<'t, R: Replacer>(&self, text: &'t str, rep: R) -> Cow<'t, str> {\n"
    "    self.replacen(text, 0, rep)\n}",
    // 7
    "/// Set the approximate size limit of the compiled regular expression.\n"
    "pub fn size_limit(&mut self, limit: usize) -> &mut RegexBuilder {\n"
    "    self.0.size_limit = limit;\n    self\n}",
    // 8
    "/// Negate this character class in place.\n"
    "pub fn negate(&mut self) {\n"
    "    if self.ranges.is_empty() { self.ranges.push(ClassBytesRange::new(0, 0xFF)); return; }\n"
    "    let drain_end = self.ranges.len();\n}",
    // 9
    "/// Case fold all ranges in this class to simple case mappings.\n"
    "pub fn case_fold_simple(&mut self) {\n"
    "    for i in 0..self.ranges.len() { let range = self.ranges[i]; range.add_folded(&mut "
    "self.ranges); }\n"
    "    self.canonicalize();\n}",
    // 10
    "/// Returns an iterator over all the substrings of `text` delimited by a match.\n"
    "pub fn split<'r, 't>(&'r self, text: &'t str) -> Split<'r, 't> {\n"
    "    Split { finder: self.find_iter(text), last: 0 }\n}",
    // 11
    "/// Parse a hexadecimal escape sequence: `\\x7F`, `\\u007F` or `\\U0000007F`.\n"
    "fn parse_hex(&self) -> Result<ast::Literal> {\n"
    "    let kind = match self.char() { 'x' => HexLiteralKind::X, 'u' => "
    "HexLiteralKind::UnicodeShort, _ => HexLiteralKind::UnicodeLong };\n"
    "    self.parse_hex_digits(kind)\n}",
};
constexpr int kNumItems = sizeof(kItems) / sizeof(kItems[0]);

const Case kCases[] = {
    {"parse a unicode class", 0},
    {"parsing unicode classes like \\p{Greek}", 0},
    {"octal codepoint parsing", 1},
    {"is this char a word character", 2},
    {"escape regex meta characters", 3},
    {"compiling a regex to a program", 4},
    {"how many capture groups", 5},
    {"replace every match in a string", 6},
    {"limit the size of the compiled regex", 7},
    {"negating a character class", 8},
    {"case folding of class ranges", 9},
    {"split text by a regex", 10},
    {"hex escapes", 11},
    {"parse_hex", 11},
    {"CaptureGroups len", 5},
};

double MeanReciprocalRank(const HashEmbedderOptions& options) {
  auto e = MakeHashEmbedder(options);
  const int d = e->dim();
  std::vector<std::string> items(kItems, kItems + kNumItems);
  std::vector<float> iv = EmbedOrDie(*e, items);
  double total = 0;
  for (const Case& c : kCases) {
    std::vector<float> q = EmbedOrDie(*e, {c.query});
    float target = Dot(q.data(), iv.data() + c.item * d, d);
    int rank = 1;
    for (int i = 0; i < kNumItems; ++i) {
      if (i != c.item && Dot(q.data(), iv.data() + i * d, d) >= target) ++rank;
    }
    total += 1.0 / rank;
  }
  return total / (sizeof(kCases) / sizeof(kCases[0]));
}

TEST(HashEmbedderTest, RetrievesItemsFromNaturalLanguageQueries) {
  HashEmbedderOptions full;
  HashEmbedderOptions no_stem;
  no_stem.stem = false;
  HashEmbedderOptions tokens_only;
  tokens_only.char_ngrams = false;
  tokens_only.token_pairs = false;
  double mrr = MeanReciprocalRank(full);
  double mrr_no_stem = MeanReciprocalRank(no_stem);
  double mrr_tokens = MeanReciprocalRank(tokens_only);
  std::printf("MRR: default %.3f, no stemming %.3f, tokens only %.3f\n", mrr, mrr_no_stem,
              mrr_tokens);
  EXPECT_GE(mrr, 0.9);
  EXPECT_GE(mrr, mrr_no_stem);
}

TEST(HashEmbedderTest, AnotherSeedIsAnotherModel) {
  HashEmbedderOptions other;
  other.seed = 1;
  auto a = MakeHashEmbedder();
  auto b = MakeHashEmbedder(other);
  EXPECT_NE(a->model_id(), b->model_id());
  const std::string text = "fn parse_unicode_class(&self) -> Result<ClassUnicode>";
  std::vector<float> va = EmbedOrDie(*a, {text});
  std::vector<float> vb = EmbedOrDie(*b, {text});
  EXPECT_LT(Dot(va.data(), vb.data(), 384), 0.95f);
}

}  // namespace
}  // namespace ferrograph
