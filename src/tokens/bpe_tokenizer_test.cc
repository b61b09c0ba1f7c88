#include "tokens/bpe_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ferrograph {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const BpeTokenizer& Tokenizer(std::string_view encoding) {
  auto t = BpeTokenizer::Get(encoding);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return **t;
}

struct GoldenVector {
  std::string encoding;
  std::string sample;
  std::vector<uint32_t> encoded;
};

// data/TestPlans.txt of gpt-tokenizer 4.0.0: records of three lines
// ("EncodingName: X", "Sample: TEXT", "Encoded: [1, 2]") separated by blank
// lines, parsed as the package's own test does.
std::vector<GoldenVector> LoadTestPlans() {
  std::ifstream in(FERROGRAPH_TOKENS_TEST_PLANS, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << FERROGRAPH_TOKENS_TEST_PLANS
                         << ": run scripts/install_deps.sh";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::vector<GoldenVector> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find("\n\n", pos);
    if (end == std::string::npos) end = data.size();
    std::string_view record(data.data() + pos, end - pos);
    pos = end + 2;
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start <= record.size()) {
      size_t nl = record.find('\n', start);
      if (nl == std::string_view::npos) nl = record.size();
      lines.push_back(record.substr(start, nl - start));
      start = nl + 1;
    }
    if (lines.size() < 3 || lines[0].empty()) continue;
    GoldenVector g;
    auto value = [](std::string_view line, std::string_view key) {
      EXPECT_TRUE(line.starts_with(key)) << line;
      return std::string(line.substr(std::min(line.size(), key.size())));
    };
    g.encoding = value(lines[0], "EncodingName: ");
    g.sample = value(lines[1], "Sample: ");
    std::string ids = value(lines[2], "Encoded: ");
    EXPECT_TRUE(ids.starts_with("[") && ids.ends_with("]")) << ids;
    for (char& c : ids) {
      if (c == '[' || c == ']' || c == ',') c = ' ';
    }
    std::istringstream is(ids);
    uint32_t id;
    while (is >> id) g.encoded.push_back(id);
    out.push_back(std::move(g));
  }
  return out;
}

TEST(BpeTokenizerTest, PassesEveryGoldenVectorOfGptTokenizer) {
  const std::vector<GoldenVector> plans = LoadTestPlans();
  ASSERT_EQ(plans.size(), 313u) << "TestPlans.txt changed or did not parse";
  std::map<std::string, int> per_encoding;
  for (const GoldenVector& g : plans) {
    ++per_encoding[g.encoding];
    auto t = BpeTokenizer::Get(g.encoding);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_THAT((*t)->Encode(g.sample), ElementsAreArray(g.encoded))
        << g.encoding << " sample: " << g.sample;
    EXPECT_EQ((*t)->Count(g.sample), g.encoded.size()) << g.encoding << " sample: " << g.sample;
    EXPECT_EQ((*t)->Decode(g.encoded), g.sample) << g.encoding;
  }
  EXPECT_EQ(per_encoding["cl100k_base"], 64);
  EXPECT_EQ(per_encoding["o200k_base"], 57);
  EXPECT_EQ(per_encoding["r50k_base"], 64);
  EXPECT_EQ(per_encoding["p50k_base"], 64);
  EXPECT_EQ(per_encoding["p50k_edit"], 64);
}

TEST(BpeTokenizerTest, KnownIds) {
  EXPECT_THAT(Tokenizer("cl100k_base").Encode("hello world"), ElementsAre(15339, 1917));
  EXPECT_THAT(Tokenizer("o200k_base").Encode("hello world"), ElementsAre(24912, 2375));
  EXPECT_THAT(Tokenizer("cl100k_base").Encode(""), ElementsAre());
  EXPECT_EQ(Tokenizer("cl100k_base").Count(""), 0u);
}

TEST(BpeTokenizerTest, UnknownEncodingIsNotFound) {
  auto t = BpeTokenizer::Get("gpt2_base");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr("cl100k_base"));
}

TEST(BpeTokenizerTest, GetReturnsOneInstancePerEncoding) {
  EXPECT_EQ(&Tokenizer("cl100k_base"), &Tokenizer("cl100k_base"));
  EXPECT_NE(&Tokenizer("cl100k_base"), &Tokenizer("o200k_base"));
  EXPECT_EQ(Tokenizer("o200k_base").name(), "o200k_base");
  EXPECT_EQ(Tokenizer("cl100k_base").n_vocab(), 100277u);
  EXPECT_EQ(Tokenizer("o200k_base").n_vocab(), 200019u);
  for (std::string_view name : BpeTokenizer::EncodingNames()) {
    EXPECT_TRUE(BpeTokenizer::Get(name).ok()) << name;
  }
}

std::vector<std::string> RoundTripSamples() {
  std::vector<std::string> s = {
      "",
      " ",
      "  ",
      "\t",
      "\n",
      "\n\n\n",
      " \n \n",
      "\r\n",
      "a",
      "hello world",
      "Hello, World!",
      "   leading and trailing   ",
      "tab\tseparated\tvalues",
      "HTTPServer parse_u32 HashMapIter __init__",
      "don't I'm we've they'll she'd IT'S DON'T",
      "1234567890 3.14159 0xdeadBEEF 1_000_000u64",
      "fn main() {\n    println!(\"Hello, world!\");\n}\n",
      "impl<'a, T: Clone + 'static> Iterator for Iter<'a, T> {\n\ttype Item = &'a T;\n}",
      "// comment\n/// doc comment\n/*\n * block\n */\n",
      "\u00e9l\u00e8ve na\u00efve caf\u00e9 \u00c5ngstr\u00f6m",
      "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \u4e2d\u6587 \ud55c\uad6d\uc5b4",
      "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
      "\U0001F600\U0001F44D\U0001F3FD \U0001F468\u200D\U0001F469\u200D\U0001F467 "
      "\U0001F1EB\U0001F1F7",
      "\u00a0non\u00a0breaking\u2003em\u2003space\u3000ideographic",
      "line\u2028separator\u2029paragraph\u0085next",
      "mongolian\u180Evowel\u180E\u180Eseparator",
      "zero\u200Bwidth\uFEFFbom",
      "combining e\u0301 a\u0308 \u0915\u093F",
      "<|endoftext|> <|fim_prefix|> <|endofprompt|>",
      "!!!???...,,,;;;:::",
      "====================================================================",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "\u017fs \u212a Kelvin 's 'S '\u017f",
      std::string(1000, ' '),
      std::string(300, '\n') + "x",
      std::string("nul\0byte", 8),
  };
  std::string long_word;
  for (int i = 0; i < 2000; ++i) long_word += static_cast<char>('a' + (i * 7 + i / 13) % 26);
  s.push_back(long_word);
  std::mt19937 rng(42);
  // Random mixes of ASCII, whitespace and multi-byte characters.
  const std::vector<std::string> atoms = {
      "a",      "Z", "q",  " ",      "  ",     "\t",     "\n",     "\r\n",      "0",
      "7",      "'", "'s", "_",      "::",     "(",      "}",      "\u00e9",    "\u00df",
      "\u4e2d", "!", "/",  "\u0301", "\u2003", "\u3000", "\u180E", "\U0001F600"};
  for (int k = 0; k < 300; ++k) {
    std::string t;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) t += atoms[rng() % atoms.size()];
    s.push_back(t);
  }
  return s;
}

TEST(BpeTokenizerTest, DecodeOfEncodeIsTheTextAndCountIsEncodeSize) {
  const std::vector<std::string> samples = RoundTripSamples();
  for (std::string_view enc : BpeTokenizer::EncodingNames()) {
    const BpeTokenizer& t = Tokenizer(enc);
    for (const std::string& s : samples) {
      const std::vector<uint32_t> ids = t.Encode(s);
      EXPECT_EQ(t.Decode(ids), s) << enc << ": " << s;
      EXPECT_EQ(t.Count(s), ids.size()) << enc << ": " << s;
      for (uint32_t id : ids) EXPECT_FALSE(t.TokenBytes(id).empty()) << enc << " id " << id;
    }
  }
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BpeTokenizerTest, RoundTripsRealRustSource) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/share/cargo/registry", ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("regex-syntax-")) continue;
    for (auto it = std::filesystem::recursive_directory_iterator(e.path() / "src", ec);
         !ec && it != std::filesystem::end(it); it.increment(ec)) {
      if (it->path().extension() == ".rs") files.push_back(it->path());
    }
  }
  if (files.empty()) GTEST_SKIP() << "no regex-syntax sources (librust-regex-dev)";
  size_t tokens = 0, bytes = 0;
  for (std::string_view enc : {"cl100k_base", "o200k_base"}) {
    const BpeTokenizer& t = Tokenizer(enc);
    for (const auto& f : files) {
      const std::string text = ReadFile(f);
      const std::vector<uint32_t> ids = t.Encode(text);
      ASSERT_EQ(t.Decode(ids), text) << enc << " " << f;
      ASSERT_EQ(t.Count(text), ids.size()) << enc << " " << f;
      tokens += ids.size();
      bytes += text.size();
    }
  }
  // Code is a few bytes per token (these crates hold large Unicode tables of
  // hex numbers, so fewer than usual); a broken merge would give one per byte.
  EXPECT_GT(bytes, 2 * tokens);
}

TEST(BpeTokenizerTest, InvalidUtf8IsEncodedAsItsReplacement) {
  EXPECT_EQ(ReplaceInvalidUtf8("\xf0\x80\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xe2\x82"), "\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("a\xff"
                               "b"),
            "a\uFFFDb");
  EXPECT_EQ(ReplaceInvalidUtf8("\xc0\xaf"), "\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xf4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xe2\x82\xac\xe2"), "\u20AC\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xf0\x9f\x98"), "\uFFFD");
  EXPECT_EQ(ReplaceInvalidUtf8("ok \u00e9 \U0001F600"), "ok \u00e9 \U0001F600");

  const std::vector<std::string> bad = {"\xff",
                                        "abc\x80",
                                        "\xc3",
                                        "caf\xe9 latin-1",
                                        "\xed\xa0\x80 surrogate",
                                        "\xf8\x88\x80\x80\x80",
                                        std::string(100, '\x80'),
                                        "fn f() {\n    \"\xfe\xff\"\n}\n"};
  for (std::string_view enc : {"cl100k_base", "o200k_base", "r50k_base"}) {
    const BpeTokenizer& t = Tokenizer(enc);
    for (const std::string& s : bad) {
      const std::vector<uint32_t> ids = t.Encode(s);
      EXPECT_THAT(ids, ElementsAreArray(t.Encode(ReplaceInvalidUtf8(s)))) << enc;
      EXPECT_EQ(t.Count(s), ids.size());
      EXPECT_EQ(t.Decode(ids), ReplaceInvalidUtf8(s));
    }
  }
  // Random bytes never crash and always decode to the repaired text.
  std::mt19937 rng(7);
  const BpeTokenizer& t = Tokenizer("o200k_base");
  for (int k = 0; k < 200; ++k) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(t.Decode(t.Encode(s)), ReplaceInvalidUtf8(s));
  }
}

TEST(BpeTokenizerTest, SpecialTokensArePlainTextUnlessAsked) {
  const BpeTokenizer& t = Tokenizer("cl100k_base");
  const std::string text = "a<|endoftext|>b";
  const std::vector<uint32_t> plain = t.Encode(text);
  EXPECT_GT(plain.size(), 3u);
  EXPECT_THAT(plain, ::testing::Not(::testing::Contains(100257u)));
  EXPECT_EQ(t.Decode(plain), text);

  const std::vector<uint32_t> special = t.EncodeWithSpecialTokens(text);
  EXPECT_THAT(special, ElementsAre(t.Encode("a")[0], 100257u, t.Encode("b")[0]));
  EXPECT_EQ(t.Decode(special), text);
  EXPECT_THAT(t.EncodeWithSpecialTokens("<|fim_prefix|><|endofprompt|>"),
              ElementsAre(100258u, 100276u));
  EXPECT_EQ(t.SpecialToken("<|endoftext|>"), 100257u);
  EXPECT_EQ(t.SpecialToken("<|im_start|>"), std::nullopt);
  EXPECT_EQ(Tokenizer("o200k_base").SpecialToken("<|endoftext|>"), 199999u);
  EXPECT_EQ(Tokenizer("p50k_edit").SpecialToken("<|fim_suffix|>"), 50283u);
  // Segments around a special token are split on their own (`$` ends each).
  EXPECT_EQ(t.Decode(t.EncodeWithSpecialTokens("x  <|endoftext|>  y ")), "x  <|endoftext|>  y ");
}

TEST(BpeTokenizerTest, DecodeSkipsIdsThatAreNoToken) {
  const BpeTokenizer& t = Tokenizer("cl100k_base");
  const std::vector<uint32_t> ids = {15339, 100256, 4000000, 1917};
  EXPECT_EQ(t.Decode(ids), "hello world");
  EXPECT_TRUE(t.TokenBytes(100256).empty());
  // p50k_base has no ordinary token of rank 50256 (<|endoftext|>).
  EXPECT_EQ(Tokenizer("p50k_base").TokenBytes(50256), "<|endoftext|>");
}

TEST(BpeTokenizerTest, HeapMergeAgreesWithLinearMerge) {
  std::mt19937 rng(3);
  const std::string alphabet = "abcdeinorstuAEIOU_ .=";
  std::vector<std::string> pieces = {std::string(200, 'a'), std::string(255, ' '),
                                     std::string(256, '='), "abababababababababab"};
  for (int k = 0; k < 300; ++k) {
    std::string piece(2 + rng() % 255, 'a');
    for (char& c : piece) c = alphabet[rng() % alphabet.size()];
    pieces.push_back(piece);
  }
  for (std::string_view enc : {"cl100k_base", "o200k_base", "r50k_base"}) {
    const Vocabulary& v = Tokenizer(enc).vocabulary();
    for (const std::string& piece : pieces) {
      const std::vector<uint32_t> linear = tokens_internal::MergePiece(v, piece, false);
      const std::vector<uint32_t> heap = tokens_internal::MergePiece(v, piece, true);
      ASSERT_EQ(linear, heap) << enc << " piece: " << piece;
      std::string joined;
      for (uint32_t id : heap) joined += v.Bytes(id);
      ASSERT_EQ(joined, piece) << enc;
      if (piece.size() >= 16 && piece.find_first_of("aeiou") != std::string::npos) {
        ASSERT_LT(heap.size(), piece.size()) << enc << " nothing merged in: " << piece;
      }
    }
  }
}

TEST(BpeTokenizerTest, LongPiecesMergeLikeShortOnes) {
  // A piece longer than the linear-scan limit goes through the heap.
  const BpeTokenizer& t = Tokenizer("cl100k_base");
  std::string word;
  for (int i = 0; i < 500; ++i) word += "helloworld";
  const std::vector<uint32_t> ids = t.Encode(word);
  EXPECT_EQ(t.Decode(ids), word);
  EXPECT_LT(ids.size(), word.size() / 3);
  EXPECT_EQ(t.Count(word), ids.size());
}

TEST(BpeTokenizerTest, LargeRunsStayCorrect) {
  // Long runs exercise regex backtracking over whole runs (JIT stack) and
  // the heap merge on pieces of hundreds of kilobytes.
  std::string cjk;
  for (int i = 0; i < 20000; ++i) cjk += "\u6f22\u5b57";
  const std::vector<std::string> inputs = {
      std::string(1 << 20, ' ') + "x",
      std::string(200000, '\n'),
      std::string(300000, 'A'),
      std::string(300000, 'z') + "\t \r\n" + std::string(1000, '='),
      cjk,
  };
  for (std::string_view enc : {"cl100k_base", "o200k_base"}) {
    const BpeTokenizer& t = Tokenizer(enc);
    for (const std::string& s : inputs) {
      const std::vector<uint32_t> ids = t.Encode(s);
      EXPECT_EQ(t.Decode(ids), s) << enc << " input of " << s.size() << " bytes";
      EXPECT_EQ(t.Count(s), ids.size());
      EXPECT_LT(ids.size(), s.size()) << enc;
    }
  }
}

TEST(BpeTokenizerTest, ConcurrentUseGivesTheSameCounts) {
  const std::vector<std::string> samples = RoundTripSamples();
  std::vector<size_t> expected;
  for (const std::string& s : samples) expected.push_back(Tokenizer("o200k_base").Count(s));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      auto t = BpeTokenizer::Get(w % 2 == 0 ? "o200k_base" : "cl100k_base");
      if (!t.ok()) {
        ++mismatches[w];
        return;
      }
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < samples.size(); ++i) {
          if (w % 2 == 0 && (*t)->Count(samples[i]) != expected[i]) ++mismatches[w];
          if ((*t)->Decode((*t)->Encode(samples[i])) != samples[i]) ++mismatches[w];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace ferrograph
