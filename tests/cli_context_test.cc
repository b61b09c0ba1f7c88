// End-to-end tests of `ferrograph context`: the output never exceeds the
// budget (counted here with the same tokenizer), --json, --model, the
// defaults from the config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "tokens/token_counter.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ferrograph_test::RunResult;
using ::testing::HasSubstr;

class CliContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::path(testing::TempDir()) / ("cli_context_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    Write("xdg/.keep", "");
    Write("ws/Cargo.toml", "[package]\nname = \"shapes\"\nversion = \"0.1.0\"\n");
    Write("ws/src/lib.rs",
          "pub mod copy_a;\npub mod copy_b;\n"
          "/// A point in the plane.\npub struct Point { pub x: f64, pub y: f64 }\n"
          "/// Something with an area.\npub trait Shape {\n    fn area(&self) -> f64;\n}\n"
          "/// A round shape.\npub struct Circle { pub radius: f64 }\n"
          "impl Shape for Circle {\n    fn area(&self) -> f64 { circle_area(self.radius) }\n}\n"
          "/// The area of a circle of radius r.\n"
          "pub fn circle_area(r: f64) -> f64 { 3.14159 * r * r }\n"
          "/// The distance between two points.\n"
          "pub fn distance(a: &Point, b: &Point) -> f64 {\n"
          "    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()\n}\n");
    const char* copy =
        "/// Parses a checksum from hexadecimal digits.\n"
        "pub fn parse_checksum(text: &str) -> u32 { u32::from_str_radix(text, 16).unwrap_or(0) }\n";
    Write("ws/src/copy_a.rs", copy);
    Write("ws/src/copy_b.rs", copy);
    RunResult r = Ferrograph("index " + Quoted(*dir_ / "ws") + " " + Db() + " --quiet");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static void Write(const std::string& rel, const std::string& text) {
    fs::path p = *dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  static std::string Quoted(const fs::path& p) { return "'" + p.string() + "'"; }
  static std::string Db() { return "--db " + Quoted(*dir_ / "db" / "graph.db"); }
  // No user config of the machine's applies.
  static RunResult Ferrograph(const std::string& args, const std::string& env = "") {
    return ferrograph_test::RunFerrograph(
        args, {"", "XDG_CONFIG_HOME=" + Quoted(*dir_ / "xdg") + " " + env + " "});
  }

  static fs::path* dir_;
};

fs::path* CliContextTest::dir_ = nullptr;

TEST_F(CliContextTest, OutputNeverExceedsTheBudget) {
  auto counter = ferrograph::TokenCounter::ForModel("cl100k_base");
  ASSERT_TRUE(counter.ok());
  const std::vector<std::string> questions = {"'area of a circle'", "'distance between two points'",
                                              "'parse a checksum'", "what is a Point",
                                              "'Shape trait'"};
  for (const std::string& q : questions) {
    for (int budget : {50, 90, 200, 400, 1000, 3000}) {
      for (bool json_out : {false, true}) {
        RunResult r = Ferrograph("context " + q + " --budget " + std::to_string(budget) + " " +
                                 Db() + (json_out ? " --json" : ""));
        if (json_out && budget < 100 && r.code != 0) {
          EXPECT_THAT(r.err, HasSubstr("too small"));
          continue;
        }
        ASSERT_EQ(r.code, 0) << q << " @" << budget << ": " << r.err;
        EXPECT_LE(static_cast<int>(counter->Count(r.out)), budget) << q << " @" << budget;
        if (json_out) {
          json j = json::parse(r.out);
          EXPECT_EQ(j["total_tokens"], static_cast<int>(counter->Count(r.out)));
        } else {
          EXPECT_THAT(r.out, HasSubstr(std::to_string(counter->Count(r.out)) + " of " +
                                       std::to_string(budget) + " tokens (cl100k_base)"));
        }
      }
    }
  }
}

TEST_F(CliContextTest, MarkdownHasTheCodeAndTheAccount) {
  RunResult r = Ferrograph("context 'distance between two points' --budget 2000 " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# Context: distance between two points\n"));
  EXPECT_THAT(r.out, HasSubstr("hit: function shapes::distance (src/lib.rs:"));
  EXPECT_THAT(r.out, HasSubstr("```rust\n/// The distance between two points.\n"));
  EXPECT_THAT(r.out, HasSubstr("((a.x - b.x).powi(2)"));
  EXPECT_THAT(r.out, HasSubstr(": struct shapes::Point (src/lib.rs:3)"));  // a hit or a type
  EXPECT_THAT(r.out, HasSubstr("## Account"));
  EXPECT_THAT(r.out, HasSubstr("search #1"));
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(CliContextTest, NeighboursOfTheHits) {
  RunResult r = Ferrograph("context 'distance between two points' -k 1 --json " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["parts"].size(), 2u) << r.out;
  EXPECT_EQ(j["parts"][0]["path"], "shapes::distance");
  EXPECT_EQ(j["parts"][1]["kind"], "type");
  EXPECT_EQ(j["parts"][1]["path"], "shapes::Point");
  EXPECT_EQ(j["parts"][1]["why"], "type used by shapes::distance");
}

TEST_F(CliContextTest, JsonFields) {
  RunResult r = Ferrograph("context 'parse a checksum from hex' --budget 1500 --json " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["question"], "parse a checksum from hex");
  EXPECT_EQ(j["budget"], 1500);
  EXPECT_EQ(j["tokenizer"], "cl100k_base");
  EXPECT_EQ(j["exact"], true);
  EXPECT_TRUE(j["omitted"].is_array());
  ASSERT_FALSE(j["parts"].empty());
  int checksums = 0;
  for (const json& p : j["parts"]) {
    for (const char* key : {"kind", "path", "node_kind", "file", "line", "tokens", "why", "text"})
      EXPECT_TRUE(p.contains(key)) << key;
    if (p["path"].get<std::string>().find("parse_checksum") != std::string::npos) ++checksums;
  }
  EXPECT_EQ(checksums, 1);  // two identical functions, one part
}

TEST_F(CliContextTest, UnknownModelIsALabelledEstimate) {
  RunResult r = Ferrograph("context 'area of a circle' --model my-llama --budget 500 " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("estimate: no known vocabulary for model `my-llama`"));
  EXPECT_LE(static_cast<int>(ferrograph::EstimateTokens(r.out)), 500);
  RunResult j = Ferrograph("context 'area of a circle' --model my-llama --json " + Db());
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out)["tokenizer"], "estimate");
  EXPECT_EQ(json::parse(j.out)["exact"], false);
}

TEST_F(CliContextTest, DefaultsComeFromTheConfig) {
  RunResult r = Ferrograph("context 'area of a circle' --json " + Db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["budget"], 8000);
  r = Ferrograph("context 'area of a circle' --json " + Db(),
                 "FERROGRAPH_CONTEXT_BUDGET=321 FERROGRAPH_CONTEXT_MODEL=gpt-4o");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["budget"], 321);
  EXPECT_EQ(json::parse(r.out)["tokenizer"], "o200k_base");
  // The project's config file, beside the database; flags win over it.
  Write("db/config.toml", "[context]\ndefault_budget = 444\n");
  r = Ferrograph("context 'area of a circle' --json " + Db());
  EXPECT_EQ(json::parse(r.out)["budget"], 444);
  r = Ferrograph("context 'area of a circle' --json --budget 555 " + Db());
  EXPECT_EQ(json::parse(r.out)["budget"], 555);
  fs::remove(*dir_ / "db" / "config.toml");
}

TEST_F(CliContextTest, Errors) {
  RunResult r = Ferrograph("context " + Db());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("needs a QUESTION"));
  r = Ferrograph("context 'x' --budget 0 " + Db());
  EXPECT_EQ(r.code, 2);
  r = Ferrograph("context 'area of a circle' --budget 5 " + Db());
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("too small"));
  EXPECT_TRUE(r.out.empty());
  r = Ferrograph("help context");
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("--budget N"));
}

}  // namespace
