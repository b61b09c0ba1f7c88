#include "ferrograph/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ConfigEnv FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string Read(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
  }

  fs::path dir_;
};

TEST_F(ConfigTest, MissingFilesGiveTheDefaults) {
  ConfigSources s{(dir_ / "no/user.toml").string(), (dir_ / "no/project.toml").string(),
                  FakeEnv({})};
  auto c = LoadConfig(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->models.allow_unsigned);
  EXPECT_TRUE(c->models.trusted_keys.empty());
  EXPECT_TRUE(c->index.embedders.empty());
  EXPECT_EQ(c->index.jobs, 0);
  EXPECT_EQ(c->llm.api_key_env, "OPENAI_API_KEY");
  EXPECT_EQ(c->openai_embeddings.base_url, "http://localhost:11434/v1");
  EXPECT_EQ(c->openai_embeddings.model, "nomic-embed-text");
  EXPECT_EQ(c->context.default_budget, 8000);
  EXPECT_TRUE(c->sources.empty());
  EXPECT_TRUE(LoadConfig(ConfigSources{}).ok());
}

TEST_F(ConfigTest, ProjectOverridesUserAndEnvironmentOverridesBoth) {
  std::string user = Write("user.toml",
                           "[models]\nallow_unsigned = true\ntrusted_keys = [\"ed25519:AAAA\"]\n"
                           "[index]\nembedders = [\"hash\"]\njobs = 2\n"
                           "[llm]\nmodel = \"user-model\"\ntimeout_seconds = 30\n"
                           "[embeddings.openai]\nbase_url = \"http://user/v1\"\n"
                           "model = \"user-embed\"\n"
                           "[context]\ndefault_budget = 1000\n");
  std::string project = Write("project/.ferrograph/config.toml",
                              "[index]\njobs = 3\n"
                              "[llm]\nmodel = \"project-model\"\n"
                              "[embeddings.openai]\nmodel = \"project-embed\"\n");
  ConfigSources s{user, project, FakeEnv({})};
  auto c = LoadConfig(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->models.allow_unsigned);
  EXPECT_THAT(c->models.trusted_keys, ElementsAre("ed25519:AAAA"));
  EXPECT_THAT(c->index.embedders, ElementsAre("hash"));  // user: the project says nothing
  EXPECT_EQ(c->index.jobs, 3);                           // project over user
  EXPECT_EQ(c->llm.model, "project-model");
  EXPECT_EQ(c->llm.timeout_seconds, 30);
  EXPECT_EQ(c->openai_embeddings.base_url, "http://user/v1");
  EXPECT_EQ(c->openai_embeddings.model, "project-embed");
  EXPECT_EQ(c->context.default_budget, 1000);
  EXPECT_THAT(c->sources, ElementsAre(user, project));

  s.env = FakeEnv({{"FERROGRAPH_JOBS", "5"},
                   {"FERROGRAPH_ALLOW_UNSIGNED_MODELS", "0"},
                   {"FERROGRAPH_EMBEDDERS", "hash, fasttext:/m.bin"},
                   {"FERROGRAPH_LLM_MODEL", "env-model"},
                   {"FERROGRAPH_OPENAI_BASE_URL", "http://env/v1"},
                   {"FERROGRAPH_CONTEXT_BUDGET", "64"},
                   {"FERROGRAPH_LLM_BASE_URL", ""}});  // empty: unset
  c = LoadConfig(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->index.jobs, 5);
  EXPECT_FALSE(c->models.allow_unsigned);
  EXPECT_THAT(c->index.embedders, ElementsAre("hash", "fasttext:/m.bin"));
  EXPECT_EQ(c->llm.model, "env-model");
  EXPECT_EQ(c->llm.base_url, "http://localhost:11434/v1");
  EXPECT_EQ(c->openai_embeddings.base_url, "http://env/v1");
  EXPECT_EQ(c->openai_embeddings.model, "project-embed");
  EXPECT_EQ(c->context.default_budget, 64);
}

TEST_F(ConfigTest, LoadConfigFindsTheUserAndProjectFiles) {
  Write("xdg/ferrograph/config.toml", "[index]\njobs = 7\n[llm]\nmax_retries = 9\n");
  Write("root/.ferrograph/config.toml", "[index]\njobs = 8\n");
  std::string xdg = (dir_ / "xdg").string();
  EXPECT_EQ(UserConfigDir(FakeEnv({{"XDG_CONFIG_HOME", xdg}, {"HOME", "/h"}})),
            xdg + "/ferrograph");
  EXPECT_EQ(UserConfigDir(FakeEnv({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/h"}})),
            "/h/.config/ferrograph");
  EXPECT_EQ(UserConfigDir(FakeEnv({})), "");
  EXPECT_EQ(ProjectConfigFile("/r"), "/r/.ferrograph/config.toml");

  const char* old = std::getenv("XDG_CONFIG_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_CONFIG_HOME", xdg.c_str(), 1);
  auto c = LoadConfig((dir_ / "root").string());
  auto user_only = LoadConfig(std::string());
  if (old) {
    ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("XDG_CONFIG_HOME");
  }
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->index.jobs, 8);
  EXPECT_EQ(c->llm.max_retries, 9);
  ASSERT_TRUE(user_only.ok()) << user_only.status().ToString();
  EXPECT_EQ(user_only->index.jobs, 7);
}

TEST_F(ConfigTest, MalformedTomlNamesFileAndLine) {
  std::string p = Write("bad.toml", "[index]\njobs = 2\nembedders = [\"hash\"\n\n");
  auto c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":"));
  EXPECT_THAT(c.status().message(), HasSubstr("not valid TOML"));

  p = Write("bad2.toml", "\n\njobs == 3\n");
  c = LoadConfig(ConfigSources{p, "", FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":3:"));
}

TEST_F(ConfigTest, WrongTypeNamesFileLineAndKey) {
  std::string p = Write("user.toml", "[models]\n\nallow_unsigned = \"yes\"\n");
  auto c = LoadConfig(ConfigSources{p, "", FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            p + ":3: key models.allow_unsigned: expected a boolean, got a string");

  p = Write("p1.toml", "[index]\nembedders = [\"hash\", 3]\n");
  c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":2: key index.embedders: expected an array"));

  p = Write("p2.toml", "[index]\njobs = -1\n");
  c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":2: key index.jobs: -1 is out of range"));

  p = Write("p3.toml", "llm = 3\n");
  c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":1: key llm: expected a table, got an integer"));
}

TEST_F(ConfigTest, UnknownKeysAreErrors) {
  std::string p = Write("p.toml", "[index]\njob = 2\n");
  auto c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":2: key index.job: unknown key"));
  p = Write("q.toml", "[embeddings.cohere]\nmodel = \"x\"\n");
  c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("key embeddings.cohere: unknown key"));
}

TEST_F(ConfigTest, ProjectMayNotVouchForModels) {
  std::string p = Write("p.toml", "[models]\nallow_unsigned = true\n");
  auto c = LoadConfig(ConfigSources{"", p, FakeEnv({})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(p + ":1: key models"));
  EXPECT_THAT(c.status().message(), HasSubstr("user's config and the environment only"));
  // The same in the user's file is fine.
  EXPECT_TRUE(LoadConfig(ConfigSources{p, "", FakeEnv({})}).ok());
}

TEST_F(ConfigTest, MalformedEnvironmentNamesTheVariable) {
  auto c = LoadConfig(ConfigSources{"", "", FakeEnv({{"FERROGRAPH_JOBS", "many"}})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("FERROGRAPH_JOBS=many"));
  c = LoadConfig(ConfigSources{"", "", FakeEnv({{"FERROGRAPH_ALLOW_UNSIGNED_MODELS", "maybe"}})});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("FERROGRAPH_ALLOW_UNSIGNED_MODELS"));
  c = LoadConfig(ConfigSources{"", "", FakeEnv({{"FERROGRAPH_ALLOW_UNSIGNED_MODELS", "1"}})});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->models.allow_unsigned);
}

TEST_F(ConfigTest, AddTrustedKeyCreatesOrEditsTheFile) {
  auto trusted = [](const std::string& path) {
    auto c = LoadConfig(ConfigSources{path, "", FakeEnv({})});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->models.trusted_keys : std::vector<std::string>{};
  };
  // Missing: created, with its directory.
  std::string fresh = (dir_ / "new/dir/config.toml").string();
  ASSERT_TRUE(AddTrustedKey(fresh, "ed25519:K1").ok());
  EXPECT_THAT(trusted(fresh), ElementsAre("ed25519:K1"));
  ASSERT_TRUE(AddTrustedKey(fresh, "ed25519:K1").ok());  // already there
  EXPECT_THAT(trusted(fresh), ElementsAre("ed25519:K1"));
  ASSERT_TRUE(AddTrustedKey(fresh, "ed25519:K2").ok());
  EXPECT_THAT(trusted(fresh), ElementsAre("ed25519:K2", "ed25519:K1"));

  // No [models]: appended; comments and other keys kept.
  std::string p = Write("a.toml", "# mine\n[index]\njobs = 2 # two\n");
  ASSERT_TRUE(AddTrustedKey(p, "ed25519:K").ok());
  EXPECT_THAT(trusted(p), ElementsAre("ed25519:K"));
  EXPECT_THAT(Read(p), HasSubstr("# mine\n[index]\njobs = 2 # two\n"));

  // [models] without the key: the line goes under the header.
  p = Write("b.toml", "[models]\nallow_unsigned = false\n\n[index]\njobs = 1\n");
  ASSERT_TRUE(AddTrustedKey(p, "ed25519:K").ok());
  EXPECT_EQ(Read(p),
            "[models]\ntrusted_keys = [\"ed25519:K\"]\nallow_unsigned = false\n\n[index]\njobs = "
            "1\n");

  // An empty or full array: the key goes first.
  p = Write("c.toml", "[models]\ntrusted_keys = [ ]\n");
  ASSERT_TRUE(AddTrustedKey(p, "ed25519:K").ok());
  EXPECT_THAT(trusted(p), ElementsAre("ed25519:K"));
  p = Write("d.toml", "[models]\ntrusted_keys = [\n  \"ed25519:OLD\", # old\n]\n");
  ASSERT_TRUE(AddTrustedKey(p, "ed25519:K").ok());
  EXPECT_THAT(trusted(p), ElementsAre("ed25519:K", "ed25519:OLD"));
  EXPECT_THAT(Read(p), HasSubstr("# old"));

  // Shapes it does not edit: an error that says what to add.
  p = Write("e.toml", "models = { allow_unsigned = true }\n");
  Status s = AddTrustedKey(p, "ed25519:K");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("add the key by hand"));
  p = Write("f.toml", "[index\n");
  EXPECT_EQ(AddTrustedKey(p, "ed25519:K").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(p), "[index\n");
}

}  // namespace
}  // namespace ferrograph
