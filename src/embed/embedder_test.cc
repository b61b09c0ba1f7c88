#include "embed/embedder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ferrograph {
namespace {

using ::testing::HasSubstr;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(ParseEmbedderSpecTest, Hash) {
  auto s = ParseEmbedderSpec("hash", FakeEnv({}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, "hash");
  EXPECT_EQ(ParseEmbedderSpec(" hash \n", FakeEnv({}))->kind, "hash");
  EXPECT_EQ(ParseEmbedderSpec("hash:x", FakeEnv({})).status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseEmbedderSpecTest, FastText) {
  auto s = ParseEmbedderSpec("fasttext:/p/m.bin", FakeEnv({}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, "fasttext");
  EXPECT_EQ(s->model, "/p/m.bin");
  EXPECT_EQ(s->text, "fasttext:/p/m.bin");
  EXPECT_EQ(ParseEmbedderSpec("fasttext", FakeEnv({}))->model, "");
  EXPECT_EQ(ParseEmbedderSpec(" hash ", FakeEnv({}))->text, "hash");
  EXPECT_EQ(ParseEmbedderSpec("openai:m", FakeEnv({}))->text, "openai:m");
  EXPECT_EQ(ParseEmbedderSpec("fasttext:", FakeEnv({})).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ParseEmbedderSpecTest, OpenAIDefaults) {
  auto s = ParseEmbedderSpec("openai", FakeEnv({}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, "openai");
  EXPECT_EQ(s->model, "nomic-embed-text");
  EXPECT_EQ(s->base_url, "http://localhost:11434/v1");
  EXPECT_EQ(s->api_key, "");
}

TEST(ParseEmbedderSpecTest, OpenAIFromTheEnvironment) {
  auto s = ParseEmbedderSpec("openai:text-embedding-3-small",
                             FakeEnv({{"FERROGRAPH_OPENAI_BASE_URL", "https://api.example/v1/"},
                                      {"OPENAI_API_KEY", "sk-fallback"}}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->model, "text-embedding-3-small");
  EXPECT_EQ(s->base_url, "https://api.example/v1");
  EXPECT_EQ(s->api_key, "sk-fallback");
  s = ParseEmbedderSpec("openai", FakeEnv({{"FERROGRAPH_OPENAI_API_KEY", "sk-ours"},
                                           {"OPENAI_API_KEY", "sk-fallback"}}));
  EXPECT_EQ(s->api_key, "sk-ours");
}

TEST(ParseEmbedderSpecTest, UnknownKind) {
  auto s = ParseEmbedderSpec("bert:large", FakeEnv({}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("unknown kind"));
  EXPECT_EQ(ParseEmbedderSpec("", FakeEnv({})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEmbedderSpec("openai:", FakeEnv({})).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(MakeEmbedderTest, HashIsTheDefault) {
  auto e = MakeEmbedder(EmbedderSpec{});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->model_id(), "hash-v2-384");
  EmbedderSpec bad;
  bad.kind = "nope";
  EXPECT_EQ(MakeEmbedder(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(L2NormalizeTest, UnitLengthZeroStaysZeroNonFiniteBecomesZero) {
  float v[3] = {3, 4, 0};
  L2Normalize(v, 3);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  float z[2] = {0, 0};
  L2Normalize(z, 2);
  EXPECT_EQ(z[0], 0.0f);
  float inf[2] = {1e30f, 1e30f};
  L2Normalize(inf, 2);  // the sum overflows float but not double
  EXPECT_NEAR(inf[0], 0.7071f, 1e-3);
  float nan[2] = {std::nanf(""), 1};
  L2Normalize(nan, 2);
  EXPECT_EQ(nan[1], 0.0f);
}

}  // namespace
}  // namespace ferrograph
