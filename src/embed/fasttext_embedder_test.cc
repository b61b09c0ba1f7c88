#include "embed/fasttext_embedder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Rust-like items from a few verbs and nouns; `offset` rotates the nouns so
// two corpora pair the same words differently.
std::vector<std::string> Corpus(int n, int offset) {
  const char* verbs[] = {"parse", "compile", "match",  "find", "replace",
                         "split", "escape",  "negate", "fold", "push"};
  const char* nouns[] = {"unicode", "class", "literal", "regex", "range",
                         "byte",    "char",  "capture", "group", "pattern"};
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) {
    std::string v = verbs[i % 10];
    std::string a = nouns[(i / 10 + offset) % 10];
    std::string b = nouns[(i / 3 + 2 * offset) % 10];
    docs.push_back("/// " + v + " the " + a + " " + b + " of this parser.\nfn " + v + "_" + a +
                   "_" + b + "(&mut self, " + a + ": " + b + ") -> Result<" + a + "> {\n    let " +
                   b + " = self." + v + "(" + a + ")?;\n    Ok(" + b + ")\n}");
  }
  return docs;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

float Dot(const std::vector<float>& v, size_t i, size_t j, int dim) {
  double s = 0;
  for (int k = 0; k < dim; ++k) s += static_cast<double>(v[i * dim + k]) * v[j * dim + k];
  return static_cast<float>(s);
}

FastTextTrainOptions SmallOptions() {
  FastTextTrainOptions o;
  o.dim = 32;
  o.epoch = 5;
  o.bucket = 20000;
  o.min_count = 1;
  o.threads = 1;
  return o;
}

class FastTextEmbedderTest : public ::testing::Test {
 protected:
  // Models shared by the tests: training costs a second or so each.
  static void SetUpTestSuite() {
    // One directory per process: ctest runs each test in its own process,
    // several at once, and each process trains its own models.
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        ("fasttext_embedder_test_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    // Model loads verify provenance: this process trusts a key of its own,
    // and no user config is read.
    ::setenv("XDG_CONFIG_HOME", (*dir_ / "config").c_str(), 1);
    auto key = SigningKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = new SigningKey(*key);
    SetModelTrust(ModelTrust{{key_->public_key()}, /*allow_unsigned=*/false});
    Status s = TrainFastText(Corpus(600, 0), SmallOptions(), Path("a.bin"));
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = TrainFastText(Corpus(600, 3), SmallOptions(), Path("b.bin"));
    ASSERT_TRUE(s.ok()) << s.ToString();
    Sign(Path("a.bin"));
    Sign(Path("b.bin"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete key_;
  }
  static std::string Path(const std::string& name) { return (*dir_ / name).string(); }
  static void Sign(const std::string& path) {
    auto m = SignModelFile(path, *key_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }
  // For the tests of damaged files: provenance is not what they check.
  static Result<std::unique_ptr<Embedder>> LoadUnsigned(const std::string& path) {
    return LoadFastTextModel(path, ModelTrust{{}, /*allow_unsigned=*/true});
  }

  static std::unique_ptr<Embedder> LoadOrDie(const std::string& path) {
    auto r = LoadFastTextModel(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  static fs::path* dir_;
  static SigningKey* key_;
};
fs::path* FastTextEmbedderTest::dir_ = nullptr;
SigningKey* FastTextEmbedderTest::key_ = nullptr;

TEST_F(FastTextEmbedderTest, TrainingLineIsCodeWords) {
  EXPECT_EQ(FastTextTrainingLine("fn parse_u32(&self) // 42"), "fn parse_u32 parse u32 self");
  EXPECT_EQ(FastTextTrainingLine(" ;; "), "");
}

TEST_F(FastTextEmbedderTest, LoadsAndEmbedsNormalizedRows) {
  auto e = LoadOrDie(Path("a.bin"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dim(), 32);
  EXPECT_THAT(e->model_id(), MatchesRegex("fasttext-[0-9a-f]{16}"));
  auto r = e->Embed({"fn parse_unicode_class(&mut self)", "", "an unseen zyxwvut word", "{};"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<float>& v = *r;
  ASSERT_EQ(v.size(), 4u * 32);
  EXPECT_NEAR(Dot(v, 0, 0, 32), 1.0f, 1e-5);
  EXPECT_EQ(Dot(v, 1, 1, 32), 0.0f);
  EXPECT_NEAR(Dot(v, 2, 2, 32), 1.0f, 1e-5);  // out of vocabulary: n-grams
  EXPECT_EQ(Dot(v, 3, 3, 32), 0.0f);
}

TEST_F(FastTextEmbedderTest, SharedSubwordsAreCloser) {
  auto e = LoadOrDie(Path("a.bin"));
  ASSERT_NE(e, nullptr);
  auto r = e->Embed({"parse unicode class", "fn parse_unicode_class(&mut self)",
                     "fn escape_byte_range(&mut self)"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(Dot(*r, 0, 1, 32), Dot(*r, 0, 2, 32));
}

TEST_F(FastTextEmbedderTest, OneThreadTrainsReproducibly) {
  ASSERT_TRUE(TrainFastText(Corpus(600, 0), SmallOptions(), Path("a2.bin")).ok());
  Sign(Path("a2.bin"));
  EXPECT_EQ(ReadAll(Path("a.bin")), ReadAll(Path("a2.bin")));
  EXPECT_EQ(LoadOrDie(Path("a.bin"))->model_id(), LoadOrDie(Path("a2.bin"))->model_id());
}

TEST_F(FastTextEmbedderTest, DifferentModelsDisagree) {
  auto a = LoadOrDie(Path("a.bin"));
  auto b = LoadOrDie(Path("b.bin"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->model_id(), b->model_id());
  const std::string text = "fn parse_unicode_class(&mut self) -> Result<Class>";
  auto va = a->Embed({text});
  auto vb = b->Embed({text});
  ASSERT_TRUE(va.ok() && vb.ok());
  double dot = 0;
  for (int k = 0; k < 32; ++k) dot += (*va)[k] * (*vb)[k];
  EXPECT_LT(dot, 0.95);
}

TEST_F(FastTextEmbedderTest, ModelIdFollowsTheFileBytes) {
  fs::copy_file(Path("a.bin"), Path("copy.bin"), fs::copy_options::overwrite_existing);
  Sign(Path("copy.bin"));
  std::string before = LoadOrDie(Path("copy.bin"))->model_id();
  EXPECT_EQ(before, LoadOrDie(Path("a.bin"))->model_id());
  fs::copy_file(Path("b.bin"), Path("copy.bin"), fs::copy_options::overwrite_existing);
  Sign(Path("copy.bin"));
  EXPECT_NE(LoadOrDie(Path("copy.bin"))->model_id(), before);
}

TEST_F(FastTextEmbedderTest, MissingFileIsNotFoundNamingIt) {
  auto r = LoadFastTextModel(Path("nope.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope.bin"));
  r = LoadUnsigned(Path("nope.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope.bin"));
}

TEST_F(FastTextEmbedderTest, NotAModelIsCorruption) {
  WriteAll(Path("text.bin"), "this is not a fastText model at all");
  auto r = LoadUnsigned(Path("text.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("text.bin"));
  EXPECT_THAT(r.status().message(), HasSubstr("bad magic"));

  WriteAll(Path("empty.bin"), "");
  EXPECT_EQ(LoadUnsigned(Path("empty.bin")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(LoadUnsigned(dir_->string()).status().code(), StatusCode::kIOError);
}

TEST_F(FastTextEmbedderTest, TruncatedOrDamagedModelsFailCleanly) {
  const std::string good = ReadAll(Path("a.bin"));
  ASSERT_GT(good.size(), 1000u);
  // Cut everywhere in the header and dictionary, then sparsely in the matrices.
  std::vector<size_t> cuts;
  for (size_t n = 0; n < 400; ++n) cuts.push_back(n);
  for (size_t n = 400; n < good.size(); n += good.size() / 50) cuts.push_back(n);
  cuts.push_back(good.size() - 1);
  for (size_t n : cuts) {
    WriteAll(Path("cut.bin"), good.substr(0, n));
    auto r = LoadUnsigned(Path("cut.bin"));
    ASSERT_FALSE(r.ok()) << "cut at " << n;
    EXPECT_THAT(r.status().message(), HasSubstr("cut.bin")) << n;
  }
  WriteAll(Path("long.bin"), good + "x");
  EXPECT_EQ(LoadUnsigned(Path("long.bin")).status().code(), StatusCode::kCorruption);
  // The dimension field (right after magic and version).
  std::string bad = good;
  bad[8] = 0x7f;
  WriteAll(Path("dim.bin"), bad);
  auto r = LoadUnsigned(Path("dim.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST_F(FastTextEmbedderTest, NoVocabularyIsInvalidArgument) {
  Status s = TrainFastText({"", "  ;; ", "42"}, SmallOptions(), Path("none.bin"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(fs::exists(Path("none.bin")));
  // No temporary files left behind.
  for (const auto& entry : fs::directory_iterator(*dir_)) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".XXXXXX")));
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr("none.bin.")));
  }
}

TEST_F(FastTextEmbedderTest, BadOptionsAndUnwritableDirectory) {
  FastTextTrainOptions o = SmallOptions();
  o.dim = 0;
  EXPECT_EQ(TrainFastText(Corpus(10, 0), o, Path("x.bin")).code(), StatusCode::kInvalidArgument);
  Status s = TrainFastText(Corpus(10, 0), SmallOptions(), Path("no/such/dir/x.bin"));
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
}

TEST_F(FastTextEmbedderTest, MakeEmbedderLoadsTheSpecsModel) {
  auto spec = ParseEmbedderSpec("fasttext:" + Path("a.bin"));
  ASSERT_TRUE(spec.ok());
  auto e = MakeEmbedder(*spec);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_THAT((*e)->model_id(), StartsWith("fasttext-"));
  EXPECT_EQ(MakeEmbedder(*ParseEmbedderSpec("fasttext")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(FastTextEmbedderTest, UnsignedModelIsRefusedNamingFileAndReason) {
  fs::copy_file(Path("a.bin"), Path("unsigned.bin"), fs::copy_options::overwrite_existing);
  auto r = LoadFastTextModel(Path("unsigned.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              StartsWith("fasttext model " + Path("unsigned.bin") + ": refused: unsigned"));
  // Through the spec, as index and search build it.
  auto e = MakeEmbedder(*ParseEmbedderSpec("fasttext:" + Path("unsigned.bin")));
  EXPECT_THAT(e.status().message(), HasSubstr("refused: unsigned"));
  // Explicitly allowed, it loads.
  auto allowed = LoadFastTextModel(Path("unsigned.bin"), ModelTrust{{}, true});
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ((*allowed)->model_id(), LoadOrDie(Path("a.bin"))->model_id());
}

TEST_F(FastTextEmbedderTest, TamperedModelIsRefusedNamingFileAndReason) {
  fs::copy_file(Path("a.bin"), Path("tampered.bin"), fs::copy_options::overwrite_existing);
  Sign(Path("tampered.bin"));
  std::string bytes = ReadAll(Path("tampered.bin"));
  bytes[bytes.size() - 3] ^= 0x10;  // a weight of the output matrix: the layout stays valid
  WriteAll(Path("tampered.bin"), bytes);
  for (bool allow_unsigned : {false, true}) {
    auto r =
        LoadFastTextModel(Path("tampered.bin"), ModelTrust{{key_->public_key()}, allow_unsigned});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(r.status().message(),
                StartsWith("fasttext model " + Path("tampered.bin") + ": refused: tampered"));
  }
}

TEST_F(FastTextEmbedderTest, UnknownKeyIsRefusedNamingFileAndReason) {
  fs::copy_file(Path("a.bin"), Path("foreign.bin"), fs::copy_options::overwrite_existing);
  auto stranger = SigningKey::Generate();
  ASSERT_TRUE(stranger.ok());
  ASSERT_TRUE(SignModelFile(Path("foreign.bin"), *stranger).ok());
  auto r = LoadFastTextModel(Path("foreign.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              StartsWith("fasttext model " + Path("foreign.bin") + ": refused: unknown key"));
  EXPECT_THAT(r.status().message(), HasSubstr(stranger->key_id()));
  // Trusting that key admits it; so does allowing unsigned models.
  EXPECT_TRUE(
      LoadFastTextModel(Path("foreign.bin"), ModelTrust{{stranger->public_key()}, false}).ok());
  EXPECT_TRUE(LoadFastTextModel(Path("foreign.bin"), ModelTrust{{}, true}).ok());
}

TEST_F(FastTextEmbedderTest, TheManifestNamesTheIdTheEmbedderReports) {
  auto m = SignModelFile(Path("b.bin"), *key_);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->model_id, LoadOrDie(Path("b.bin"))->model_id());
}

}  // namespace
}  // namespace ferrograph
