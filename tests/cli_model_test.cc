// End-to-end tests of model provenance (`model keygen|sign|verify`, signed
// models from `model train`, refusing models at index and search time) and of
// the configuration files, through the binary as a user runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using ferrograph_test::RunResult;

class CliModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("cli_model_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "graph.db").string();
    model_ = (dir_ / "ft.bin").string();
    Write("ws/Cargo.toml", "[package]\nname = \"shapes\"\nversion = \"0.1.0\"\n");
    Write("ws/src/lib.rs",
          "/// Something with an area.\n"
          "pub trait Shape {\n    fn area(&self) -> f64;\n}\n"
          "/// A round shape.\npub struct Circle { pub radius: f64 }\n"
          "impl Shape for Circle {\n"
          "    fn area(&self) -> f64 { 3.14159 * self.radius * self.radius }\n}\n"
          "/// Sums the areas of all shapes.\n"
          "pub fn total_area(shapes: &[Box<dyn Shape>]) -> f64 {\n"
          "    shapes.iter().map(|s| s.area()).sum()\n}\n"
          "/// Reads the configuration file from disk.\n"
          "pub fn read_config_file(path: &str) -> String { path.to_string() }\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The user's config directory of `user` (each test has its own users).
  std::string ConfigHome(const std::string& user = "me") const {
    return (dir_ / ("config-" + user)).string();
  }
  // Runs as `user`, with no FERROGRAPH_* setting from the test's environment.
  RunResult Ferrograph(const std::string& args, const std::string& user = "me",
                       const std::string& env = "") {
    return ferrograph_test::RunFerrograph(
        args, {"", "XDG_CONFIG_HOME='" + ConfigHome(user) +
                       "' FERROGRAPH_ALLOW_UNSIGNED_MODELS= FERROGRAPH_TRUSTED_KEYS= "
                       "FERROGRAPH_EMBEDDERS= " +
                       env});
  }
  std::string Db() const { return "--db '" + db_ + "'"; }
  std::string Ws() const { return "'" + (dir_ / "ws").string() + "'"; }
  std::string Model() const { return "'" + model_ + "'"; }

  // Indexes the workspace (hash vectors only) and trains ft.bin as `user`.
  void IndexAndTrain(const std::string& user = "me") {
    RunResult idx = Ferrograph("index " + Ws() + " --quiet " + Db(), user);
    ASSERT_EQ(idx.code, 0) << idx.err;
    RunResult train = Ferrograph("model train -o " + Model() + " --dim 16 " + Db(), user);
    ASSERT_EQ(train.code, 0) << train.err;
    ASSERT_TRUE(fs::exists(model_));
  }
  RunResult IndexWithModel(const std::string& user = "me", const std::string& env = "") {
    return Ferrograph("index " + Ws() + " --quiet --embedder hash,fasttext:" + Model() + " " + Db(),
                      user, env);
  }
  RunResult SearchWithModel(const std::string& user = "me", const std::string& env = "") {
    return Ferrograph(
        "search area --mode vector --json --embedder fasttext:" + Model() + " " + Db(), user, env);
  }

  fs::path dir_;
  std::string db_;
  std::string model_;
};

TEST_F(CliModelTest, KeygenSignVerify) {
  RunResult gen = Ferrograph("model keygen");
  ASSERT_EQ(gen.code, 0) << gen.err;
  EXPECT_THAT(gen.out, HasSubstr("public key: ed25519:"));
  const std::string dir = ConfigHome() + "/ferrograph";
  const std::string public_key = Read(dir + "/signing_key.pub");
  ASSERT_THAT(public_key, StartsWith("ed25519:"));
  EXPECT_THAT(Read(dir + "/config.toml"),
              HasSubstr("trusted_keys = [\"" + public_key.substr(0, public_key.size() - 1)));
  struct stat st;
  ASSERT_EQ(::stat((dir + "/signing_key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // An existing key is replaced only with --force.
  RunResult again = Ferrograph("model keygen");
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("--force"));
  EXPECT_EQ(Read(dir + "/signing_key.pub"), public_key);

  IndexAndTrain();
  fs::remove(model_ + ".manifest.json");  // train signed it; sign it by hand
  RunResult sign = Ferrograph("model sign " + Model());
  ASSERT_EQ(sign.code, 0) << sign.err;
  EXPECT_THAT(sign.out, HasSubstr(model_ + ".manifest.json"));
  json manifest = json::parse(Read(model_ + ".manifest.json"));
  EXPECT_EQ(manifest["file"], "ft.bin");
  EXPECT_EQ(manifest["public_key"], public_key.substr(0, public_key.size() - 1));
  EXPECT_THAT(manifest["model_id"].get<std::string>(), StartsWith("fasttext-"));

  RunResult ok = Ferrograph("model verify " + Model());
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, StartsWith("ok: " + model_));
  RunResult ok_json = Ferrograph("model verify --json " + Model());
  ASSERT_EQ(ok_json.code, 0) << ok_json.err;
  EXPECT_EQ(json::parse(ok_json.out)["ok"], true);

  // The model id the manifest names is the one the index reports.
  RunResult idx =
      Ferrograph("index " + Ws() + " --json --embedder hash,fasttext:" + Model() + " " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_EQ(json::parse(idx.out)["embeddings"][1]["model"], manifest["model_id"]);
  EXPECT_EQ(SearchWithModel().code, 0);

  // --force: a new key, trusted too (the old one stays trusted).
  RunResult forced = Ferrograph("model keygen --force");
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_NE(Read(dir + "/signing_key.pub"), public_key);
  EXPECT_EQ(Ferrograph("model verify " + Model()).code, 0);
}

TEST_F(CliModelTest, TrainSignsWithANewKeyAndSaysSo) {
  RunResult idx = Ferrograph("index " + Ws() + " --quiet " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  RunResult train = Ferrograph("model train -o " + Model() + " --dim 16 " + Db());
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_THAT(train.err, HasSubstr("created a signing key"));
  EXPECT_THAT(train.err, HasSubstr("signed " + model_));
  EXPECT_TRUE(fs::exists(ConfigHome() + "/ferrograph/signing_key"));
  EXPECT_EQ(Ferrograph("model verify " + Model()).code, 0);
  // The second time, the same key, nothing said about keys.
  train = Ferrograph("model train -o " + Model() + " --dim 16 " + Db());
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_THAT(train.err, Not(HasSubstr("created")));
  EXPECT_EQ(Ferrograph("model verify " + Model()).code, 0);
  EXPECT_EQ(IndexWithModel().code, 0);
}

TEST_F(CliModelTest, TamperedModelFailsVerifyAndIsRefused) {
  IndexAndTrain();
  ASSERT_EQ(IndexWithModel().code, 0);
  std::string bytes = Read(model_);
  bytes[bytes.size() - 5] ^= 0x01;
  std::ofstream(model_, std::ios::binary | std::ios::trunc) << bytes;

  RunResult verify = Ferrograph("model verify " + Model());
  EXPECT_EQ(verify.code, 1);
  EXPECT_THAT(verify.err, HasSubstr("model " + model_ + ": refused: tampered"));
  EXPECT_THAT(verify.err, HasSubstr("differ from the signed ones"));
  RunResult idx = IndexWithModel();
  EXPECT_EQ(idx.code, 1);
  EXPECT_THAT(idx.err, HasSubstr("fasttext model " + model_ + ": refused: tampered"));
  RunResult search = SearchWithModel();
  EXPECT_EQ(search.code, 1);
  EXPECT_THAT(search.err, HasSubstr("refused: tampered"));
  // Allowing unsigned models does not admit a tampered one.
  EXPECT_EQ(IndexWithModel("me", "FERROGRAPH_ALLOW_UNSIGNED_MODELS=1 ").code, 1);
}

TEST_F(CliModelTest, UnsignedModelIsRefusedWhenIndexingOrSearching) {
  IndexAndTrain();
  ASSERT_EQ(IndexWithModel().code, 0);
  fs::remove(model_ + ".manifest.json");

  RunResult idx = IndexWithModel();
  EXPECT_EQ(idx.code, 1);
  EXPECT_THAT(idx.err, HasSubstr("fasttext model " + model_ + ": refused: unsigned"));
  EXPECT_THAT(idx.err, HasSubstr("ferrograph model sign"));
  RunResult search = SearchWithModel();
  EXPECT_EQ(search.code, 1);
  EXPECT_THAT(search.err, HasSubstr("fasttext model " + model_ + ": refused: unsigned"));
  RunResult verify = Ferrograph("model verify " + Model());
  EXPECT_EQ(verify.code, 1);
  EXPECT_THAT(verify.err, HasSubstr("refused: unsigned"));
}

TEST_F(CliModelTest, UnknownKeyIsRefused) {
  IndexAndTrain("alice");  // signed with alice's key, trusted by alice only
  ASSERT_EQ(IndexWithModel("alice").code, 0);
  ASSERT_EQ(Ferrograph("model keygen", "bob").code, 0);

  RunResult verify = Ferrograph("model verify " + Model(), "bob");
  EXPECT_EQ(verify.code, 1);
  EXPECT_THAT(verify.err, HasSubstr("model " + model_ + ": refused: unknown key"));
  RunResult idx = IndexWithModel("bob");
  EXPECT_EQ(idx.code, 1);
  EXPECT_THAT(idx.err, HasSubstr("fasttext model " + model_ + ": refused: unknown key"));
  EXPECT_EQ(SearchWithModel("bob").code, 1);

  // Bob trusts Alice's key through the environment.
  std::string alice = Read(ConfigHome("alice") + "/ferrograph/signing_key.pub");
  alice.pop_back();
  EXPECT_EQ(SearchWithModel("bob", "FERROGRAPH_TRUSTED_KEYS='" + alice + "' ").code, 0);
}

TEST_F(CliModelTest, AllowUnsignedAdmitsUnsignedModels) {
  IndexAndTrain();
  fs::remove(model_ + ".manifest.json");
  ASSERT_EQ(IndexWithModel().code, 1);

  // The environment.
  RunResult idx = IndexWithModel("me", "FERROGRAPH_ALLOW_UNSIGNED_MODELS=1 ");
  EXPECT_EQ(idx.code, 0) << idx.err;
  RunResult search = SearchWithModel("me", "FERROGRAPH_ALLOW_UNSIGNED_MODELS=1 ");
  EXPECT_EQ(search.code, 0) << search.err;
  // The user's config.
  Write("config-me/ferrograph/config.toml", "[models]\nallow_unsigned = true\n");
  search = SearchWithModel();
  EXPECT_EQ(search.code, 0) << search.err;
  EXPECT_THAT(json::parse(search.out)["model"].get<std::string>(), StartsWith("fasttext-"));
  // The environment overrides the file.
  EXPECT_EQ(SearchWithModel("me", "FERROGRAPH_ALLOW_UNSIGNED_MODELS=0 ").code, 1);
  // verify answers whether it is signed, whatever is allowed.
  EXPECT_EQ(Ferrograph("model verify " + Model()).code, 1);
}

TEST_F(CliModelTest, ProjectConfigCannotAllowUnsignedModels) {
  IndexAndTrain();
  fs::remove(model_ + ".manifest.json");
  Write("config.toml", "[models]\nallow_unsigned = true\n");  // beside the database
  RunResult search = SearchWithModel();
  EXPECT_EQ(search.code, 1);
  EXPECT_THAT(search.err, HasSubstr((dir_ / "config.toml").string() + ":1: key models"));
}

TEST_F(CliModelTest, ConfigChoosesTheEmbeddersAndReportsBadFiles) {
  // The project's file (beside the database) names the embedders of `index`.
  Write("ws/.ferrograph/config.toml", "[index]\nembedders = [\"none\"]\n");
  RunResult idx = Ferrograph("index " + Ws() + " --json");
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_TRUE(json::parse(idx.out)["embeddings"].empty());
  // --embedder wins over the file.
  Write("ws/src/more.rs", "pub fn more() {}\n");
  Write("ws/src/lib.rs", "pub mod more;\n");
  idx = Ferrograph("index " + Ws() + " --json --embedder hash");
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_EQ(json::parse(idx.out)["embeddings"][0]["model"], "hash-v2-384");

  // A malformed user file: the file and line, exit 1, for any command.
  Write("config-me/ferrograph/config.toml", "[index]\njobs = \"four\"\n");
  RunResult bad = Ferrograph("stats --db '" + (dir_ / "ws/.ferrograph/graph.db").string() + "'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr(ConfigHome() + "/ferrograph/config.toml:2: key index.jobs: "
                                                "expected an integer, got a string"));
  Write("config-me/ferrograph/config.toml", "[index\n");
  bad = Ferrograph("model verify " + Model());
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("config.toml:1"));
  EXPECT_THAT(bad.err, HasSubstr("not valid TOML"));
}

}  // namespace
