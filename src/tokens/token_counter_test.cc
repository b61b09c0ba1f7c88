#include "tokens/token_counter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ferrograph {
namespace {

using ::testing::HasSubstr;

ModelInfo Find(std::string_view model) {
  Result<ModelInfo> info = FindModel(model);
  EXPECT_TRUE(info.ok()) << model << ": " << info.status().ToString();
  return info.ok() ? *info : ModelInfo{};
}

TEST(FindModelTest, OpenAiModelsAndTheirEncodings) {
  EXPECT_EQ(Find("gpt-4o").encoding, "o200k_base");
  EXPECT_EQ(Find("gpt-4o").context_tokens, 128000u);
  EXPECT_EQ(Find("gpt-4o-mini").encoding, "o200k_base");
  EXPECT_EQ(Find("gpt-4.1").encoding, "o200k_base");
  EXPECT_EQ(Find("gpt-4.1").context_tokens, 1047576u);
  EXPECT_EQ(Find("o1").encoding, "o200k_base");
  EXPECT_EQ(Find("o3").encoding, "o200k_base");
  EXPECT_EQ(Find("o4-mini").encoding, "o200k_base");
  EXPECT_EQ(Find("gpt-4").encoding, "cl100k_base");
  EXPECT_EQ(Find("gpt-4").context_tokens, 8192u);
  EXPECT_EQ(Find("gpt-3.5-turbo").encoding, "cl100k_base");
  EXPECT_EQ(Find("text-embedding-3-small").encoding, "cl100k_base");
  EXPECT_EQ(Find("text-embedding-3-large").context_tokens, 8191u);
}

TEST(FindModelTest, DatedAndTaggedVariantsMatchTheLongestPrefix) {
  EXPECT_EQ(Find("gpt-4o-2024-08-06").name, "gpt-4o");
  EXPECT_EQ(Find("gpt-4o-mini-2024-07-18").name, "gpt-4o-mini");
  EXPECT_EQ(Find("gpt-4-0613").name, "gpt-4");
  EXPECT_EQ(Find("gpt-4-turbo-2024-04-09").name, "gpt-4-turbo");
  EXPECT_EQ(Find("gpt-4.1-2025-04-14").name, "gpt-4.1");
  EXPECT_EQ(Find("gpt-3.5-turbo-0125").encoding, "cl100k_base");
  EXPECT_EQ(Find("llama3.1:8b").name, "llama3.1");
  EXPECT_EQ(Find("qwen2.5-coder:7b-instruct").name, "qwen2.5-coder");
  EXPECT_EQ(Find("GPT-4o").name, "gpt-4o");
  EXPECT_EQ(Find("ft:gpt-4o-mini-2024-07-18:acme::abc123").name, "gpt-4o-mini");
  EXPECT_EQ(Find("openai/gpt-4o").name, "gpt-4o");
  // A prefix must end at a separator: "o1x" is no o1, "gpt-4.5-x" no gpt-4.
  EXPECT_FALSE(FindModel("o1x").ok());
  EXPECT_FALSE(FindModel("gpt-4.7").ok());
}

TEST(FindModelTest, EncodingNamesAreModels) {
  const ModelInfo m = Find("cl100k_base");
  EXPECT_EQ(m.name, "cl100k_base");
  EXPECT_EQ(m.encoding, "cl100k_base");
  EXPECT_EQ(m.context_tokens, 0u);
  EXPECT_EQ(Find("o200k_base").encoding, "o200k_base");
}

TEST(FindModelTest, UnknownModelIsNotFound) {
  Result<ModelInfo> m = FindModel("my-own-model");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(m.status().message(), HasSubstr("my-own-model"));
}

TEST(FindModelTest, TableIsConsistent) {
  std::set<std::string_view> names;
  for (const ModelEntry& e : KnownModels()) {
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate " << e.name;
    EXPECT_GT(e.context_tokens, 0u) << e.name;
    if (!e.encoding.empty()) {
      EXPECT_TRUE(BpeTokenizer::Get(e.encoding).ok()) << e.name;
    }
    EXPECT_EQ(Find(e.name).name, e.name);
  }
}

TEST(TokenCounterTest, KnownVocabularyCountsExactly) {
  auto c = TokenCounter::ForModel("gpt-4o-2024-08-06");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->exact());
  EXPECT_EQ(c->label(), "o200k_base");
  EXPECT_EQ(c->model().name, "gpt-4o");
  EXPECT_EQ(c->Count("hello world"), 2u);
  const std::string code = "fn main() {\n    println!(\"hi\");\n}\n";
  EXPECT_EQ(c->Count(code), (*BpeTokenizer::Get("o200k_base"))->Encode(code).size());

  auto g4 = TokenCounter::ForModel("gpt-4");
  ASSERT_TRUE(g4.ok());
  EXPECT_EQ(g4->label(), "cl100k_base");
  EXPECT_EQ(g4->Count(code), (*BpeTokenizer::Get("cl100k_base"))->Count(code));

  auto enc = TokenCounter::ForModel("cl100k_base");
  ASSERT_TRUE(enc.ok());
  EXPECT_TRUE(enc->exact());
}

TEST(TokenCounterTest, LocalModelsAreLabelledEstimates) {
  for (std::string_view model : {"llama3.1:8b", "qwen2.5-coder", "mistral", "codellama:13b"}) {
    auto c = TokenCounter::ForModel(model);
    ASSERT_TRUE(c.ok()) << model;
    EXPECT_FALSE(c->exact()) << model;
    EXPECT_EQ(c->label(), "estimate") << model;
    EXPECT_EQ(c->tokenizer(), nullptr);
    EXPECT_GT(c->model().context_tokens, 0u) << model;
    EXPECT_EQ(c->Count("fn main() {}"), EstimateTokens("fn main() {}"));
  }
  EXPECT_EQ((*TokenCounter::ForModel("llama3.1:70b")).model().context_tokens, 131072u);
}

TEST(TokenCounterTest, UnknownModelsEstimateAndKeepTheirName) {
  auto c = TokenCounter::ForModel("my-own-model");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->exact());
  EXPECT_EQ(c->label(), "estimate");
  EXPECT_EQ(c->model().name, "my-own-model");
  EXPECT_EQ(c->model().context_tokens, 0u);
  EXPECT_FALSE(TokenCounter::ForModel("").ok());
  EXPECT_FALSE(TokenCounter::Estimating().exact());
}

TEST(TokenCounterTest, EstimateIsCloseToCl100kOnCode) {
  const std::string code =
      "impl<'a> Parser<'a> {\n"
      "    /// Parses one item and returns its span.\n"
      "    pub fn parse_item(&mut self, kind: ItemKind) -> Result<Span, Error> {\n"
      "        let start = self.pos;\n"
      "        while let Some(tok) = self.next_token()? {\n"
      "            if tok.is_close() { break; }\n"
      "            self.items.push(Item::new(kind, tok.span()));\n"
      "        }\n"
      "        Ok(Span::new(start, self.pos))\n"
      "    }\n"
      "}\n";
  const double exact = static_cast<double>((*BpeTokenizer::Get("cl100k_base"))->Count(code));
  const double estimate = static_cast<double>(EstimateTokens(code));
  EXPECT_GT(estimate, 0.75 * exact);
  EXPECT_LT(estimate, 1.35 * exact);
  EXPECT_EQ(EstimateTokens(""), 0u);
  EXPECT_EQ(EstimateTokens("a"), 1u);  // rounded up
  EXPECT_GT(EstimateTokens("\xff\xfe invalid"), 0u);
}

}  // namespace
}  // namespace ferrograph
