// Tests of AssembleContext over a small crate indexed through Engine::Index.
#include "ferrograph/context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ferrograph/engine.h"
#include "tokens/token_counter.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kLib = R"(pub mod copy_a;
pub mod copy_b;
pub mod report;

/// A point in the plane.
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// Something with an area.
pub trait Shape {
    fn area(&self) -> f64;
}

/// A circle around a centre.
pub struct Circle {
    pub centre: Point,
    pub radius: f64,
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        circle_area(self.radius)
    }
}

/// The area of a circle of radius r.
pub fn circle_area(r: f64) -> f64 {
    3.14159 * r * r
}

/// Sums the areas of all shapes.
pub fn total_area(shapes: &[Box<dyn Shape>]) -> f64 {
    shapes.iter().map(|s| s.area()).sum()
}

/// The distance between two points.
pub fn distance(a: &Point, b: &Point) -> f64 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// Summarises a circle: its area and its distance from the origin.
pub fn summarise_circle(c: &Circle) -> (f64, f64) {
    (circle_area(c.radius), distance(&c.centre, &Point { x: 0.0, y: 0.0 }))
}

/// Moves a point by an offset.
pub fn translate(p: &Point, dx: f64, dy: f64) -> Point {
    Point { x: p.x + dx, y: p.y + dy }
}
)";

constexpr const char* kCopy = R"(/// Parses a checksum from hexadecimal digits.
pub fn parse_checksum(text: &str) -> u32 {
    u32::from_str_radix(text.trim(), 16).unwrap_or(0)
}
)";

std::string ReportSource() {
  std::string s =
      "use crate::Point;\n\n/// Renders a long report of the points, one line each, with "
      "totals.\npub fn render_report(points: &[Point]) -> String {\n    let mut out = "
      "String::new();\n";
  for (int i = 0; i < 40; ++i)
    s += "    out.push_str(&format!(\"line " + std::to_string(i) + ": {} {}\\n\", points.len(), " +
         std::to_string(i * 7) + "));\n";
  s += "    out\n}\n";
  return s;
}

class ContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::path(testing::TempDir()) / ("context_test_" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    Write("ws/Cargo.toml", "[package]\nname = \"shapes\"\nversion = \"0.1.0\"\n");
    Write("ws/src/lib.rs", kLib);
    Write("ws/src/copy_a.rs", kCopy);
    Write("ws/src/copy_b.rs", kCopy);
    Write("ws/src/report.rs", ReportSource());
    Engine::Options o;
    o.db_path = (*dir_ / "graph.db").string();
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    IndexOptions io;
    io.jobs = 1;
    auto r = (*e)->Index((*dir_ / "ws").string(), io);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = e->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static void Write(const std::string& rel, const std::string& text) {
    fs::path p = *dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }

  static Result<ContextResult> Assemble(const std::string& question, int64_t budget,
                                        ContextFormat format = ContextFormat::kMarkdown,
                                        const std::string& model = "cl100k_base") {
    ContextRequest req;
    req.question = question;
    req.budget = budget;
    req.format = format;
    req.model = model;
    return AssembleContext(*engine_, req);
  }

  static const ContextPart* FindPart(const ContextResult& r, const std::string& path_suffix,
                                     const std::string& kind = "") {
    for (const ContextPart& p : r.parts)
      if (p.path.size() >= path_suffix.size() &&
          p.path.compare(p.path.size() - path_suffix.size(), path_suffix.size(), path_suffix) ==
              0 &&
          (kind.empty() || p.kind == kind))
        return &p;
    return nullptr;
  }

  static fs::path* dir_;
  static Engine* engine_;
};

fs::path* ContextTest::dir_ = nullptr;
Engine* ContextTest::engine_ = nullptr;

const std::vector<std::string>& Questions() {
  static const auto* q = new std::vector<std::string>{
      "how is the area of a circle computed",
      "distance between two points",
      "sum the areas of all shapes",
      "parse a checksum from hex digits",
      "render a report of the points",
      "what is a Point",
      "Shape trait implementations",
      "move a point by an offset",
      "where is sqrt used",
      "circle radius",
      "translate",
      "format lines of output with totals",
      "hexadecimal",
      "what does total_area call",
      "struct fields x and y",
      "impl Shape for Circle",
      "unwrap_or default value when parsing fails",
      "a question about nothing in this crate at all: databases and networking",
      "```rust code fences in the question``` and \"quotes\" \\ backslashes",
      "ünïcödé — 質問 🚀 with emoji",
  };
  return *q;
}

TEST_F(ContextTest, NeverExceedsTheBudget) {
  auto counter = TokenCounter::ForModel("cl100k_base");
  ASSERT_TRUE(counter.ok());
  const std::vector<int64_t> budgets = {50,  60,  75,  90,   110,  140,  180,  240, 320,
                                        450, 600, 800, 1100, 1500, 2000, 2800, 4000};
  int with_parts = 0, runs = 0;
  for (const std::string& q : Questions()) {
    for (int64_t budget : budgets) {
      for (ContextFormat format : {ContextFormat::kMarkdown, ContextFormat::kJson}) {
        auto r = Assemble(q, budget, format);
        if (!r.ok()) {
          // Only a JSON answer can be too large to fit at all, at tiny budgets.
          EXPECT_EQ(format, ContextFormat::kJson) << q << " @" << budget;
          EXPECT_LT(budget, 120) << q << " @" << budget << ": " << r.status().ToString();
          EXPECT_THAT(r.status().message(), HasSubstr("too small"));
          continue;
        }
        ++runs;
        const std::string& doc = format == ContextFormat::kJson ? r->json : r->markdown;
        const int64_t count = static_cast<int64_t>(counter->Count(doc));
        EXPECT_EQ(count, r->total_tokens) << q << " @" << budget;
        EXPECT_LE(count, budget) << q << " @" << budget << "\n" << doc;
        if (!r->parts.empty()) ++with_parts;
        for (const ContextPart& p : r->parts)
          EXPECT_EQ(p.tokens, static_cast<int64_t>(counter->Count(p.text)));
        if (format == ContextFormat::kMarkdown) {
          EXPECT_THAT(doc, HasSubstr("## Account"));
          EXPECT_THAT(doc, HasSubstr(std::to_string(r->total_tokens) + " of " +
                                     std::to_string(budget) + " tokens"));
        } else {
          EXPECT_TRUE(nlohmann::json::accept(doc)) << doc;
        }
      }
    }
  }
  EXPECT_GT(runs, 600);
  EXPECT_GT(with_parts, runs / 2);
}

TEST_F(ContextTest, TinyBudgetGivesAnAnswerWithItsAccount) {
  auto r = Assemble("how is the area of a circle computed", 50);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(r->total_tokens, 50);
  EXPECT_THAT(r->markdown, HasSubstr("# Context: how is the area of a circle computed"));
  EXPECT_THAT(r->markdown, HasSubstr("## Account"));
  EXPECT_FALSE(r->omitted.empty());
}

TEST_F(ContextTest, AQuestionNothingMatchesSaysSo) {
  // No word of it occurs in the code, and its vector (the hash model's,
  // from the word and its 3-grams) lies at similarity 0 or below from every
  // item's. (Most made-up words share a hashed dimension with something in
  // the corpus, at a small positive similarity, and then search has its nearest
  // hits; this one shares none.)
  auto r = Assemble("kvjq", 8000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->parts.empty());
  EXPECT_THAT(r->markdown, HasSubstr("0 parts: no code matched the question."));
  auto some = Assemble("how is the area of a circle computed", 8000);
  ASSERT_TRUE(some.ok());
  EXPECT_THAT(some->markdown, ::testing::Not(HasSubstr("no code matched")));
}

TEST_F(ContextTest, BudgetBelowTheEmptyAnswerIsRefused) {
  auto r = Assemble("how is the area of a circle computed", 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("too small"));
  ContextRequest bad;
  bad.question = "";
  EXPECT_EQ(AssembleContext(*engine_, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, IdenticalFunctionsAppearOnce) {
  auto r = Assemble("parse a checksum from hexadecimal digits", 4000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int copies = 0;
  for (const ContextPart& p : r->parts)
    if (p.path.find("parse_checksum") != std::string::npos) ++copies;
  EXPECT_EQ(copies, 1) << r->markdown;
  for (const std::string& o : r->omitted) EXPECT_THAT(o, ::testing::Not(HasSubstr("checksum")));
}

TEST_F(ContextTest, NeighboursIncludedWhenTheBudgetAllows) {
  auto r = Assemble("area of a circle", 4000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Circle's area method: the impl it belongs to, and circle_area it calls.
  const ContextPart* area = FindPart(*r, "area", "hit");
  ASSERT_NE(area, nullptr) << r->markdown;
  bool container = false, callee = false;
  for (const ContextPart& p : r->parts) {
    if ((p.kind == "container" || p.kind == "hit") &&
        p.text.find("impl Shape for Circle") != std::string::npos)
      container = true;
    if (p.path == "shapes::circle_area") callee = callee || p.kind == "callee" || p.kind == "hit";
  }
  EXPECT_TRUE(container) << r->markdown;
  EXPECT_TRUE(callee) << r->markdown;

  ContextRequest one;
  one.question = "distance between two points";
  one.budget = 4000;
  one.k = 1;
  auto d = AssembleContext(*engine_, one);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_NE(FindPart(*d, "::distance", "hit"), nullptr) << d->markdown;
  const ContextPart* point = FindPart(*d, "::Point", "type");
  ASSERT_NE(point, nullptr) << d->markdown;
  EXPECT_THAT(point->text, HasSubstr("pub x: f64"));  // the definition, not just its name
  // Hits come first, neighbours after.
  bool neighbour_seen = false;
  for (const ContextPart& p : d->parts) {
    if (p.kind != "hit") neighbour_seen = true;
    if (neighbour_seen) {
      EXPECT_NE(p.kind, "hit") << d->markdown;
    }
  }
}

TEST_F(ContextTest, CalleesAndUsedTypesOfAHit) {
  ContextRequest req;
  req.question = "summarise a circle";
  req.k = 1;
  auto r = AssembleContext(*engine_, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->parts.empty());
  EXPECT_EQ(r->parts[0].path, "shapes::summarise_circle") << r->markdown;
  const ContextPart* callee = FindPart(*r, "::circle_area", "callee");
  ASSERT_NE(callee, nullptr) << r->markdown;
  EXPECT_EQ(callee->text,
            "/// The area of a circle of radius r.\npub fn circle_area(r: f64) -> f64 { ... }");
  EXPECT_THAT(callee->why, HasSubstr("called by shapes::summarise_circle"));
  EXPECT_NE(FindPart(*r, "::distance", "callee"), nullptr) << r->markdown;
  const ContextPart* circle = FindPart(*r, "::Circle", "type");
  ASSERT_NE(circle, nullptr) << r->markdown;
  EXPECT_THAT(circle->text, HasSubstr("pub radius: f64"));

  // With less room the neighbours go first, then the hit's body.
  req.budget = r->total_tokens - 10;
  auto less = AssembleContext(*engine_, req);
  ASSERT_TRUE(less.ok());
  EXPECT_LT(less->parts.size(), r->parts.size());
  EXPECT_FALSE(less->omitted.empty());
  EXPECT_EQ(less->parts[0].path, "shapes::summarise_circle");
}

TEST_F(ContextTest, ALongBodyIsCutToItsSignatureWhenItDoesNotFit) {
  auto full = Assemble("render a long report of the points", 4000);
  ASSERT_TRUE(full.ok());
  const ContextPart* whole = FindPart(*full, "render_report", "hit");
  ASSERT_NE(whole, nullptr) << full->markdown;
  EXPECT_FALSE(whole->shortened);
  EXPECT_THAT(whole->text, HasSubstr("line 39"));

  auto cut = Assemble("render a long report of the points", whole->tokens / 2 + 80);
  ASSERT_TRUE(cut.ok());
  const ContextPart* brief = FindPart(*cut, "render_report", "hit");
  ASSERT_NE(brief, nullptr) << cut->markdown;
  EXPECT_TRUE(brief->shortened);
  EXPECT_THAT(brief->text, HasSubstr("/// Renders a long report"));
  EXPECT_THAT(brief->text, HasSubstr("pub fn render_report(points: &[Point]) -> String { ... }"));
  EXPECT_THAT(cut->markdown, HasSubstr("shortened to signature and docs"));
}

TEST_F(ContextTest, JsonHasTheDocumentedFields) {
  auto r = Assemble("distance between two points", 1500, ContextFormat::kJson);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->markdown.empty());
  ASSERT_FALSE(r->json.empty());
  EXPECT_EQ(r->json.back(), '\n');
  auto j = nlohmann::json::parse(r->json);
  for (const char* key :
       {"question", "budget", "total_tokens", "tokenizer", "exact", "parts", "omitted"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["question"], "distance between two points");
  EXPECT_EQ(j["budget"], 1500);
  EXPECT_EQ(j["total_tokens"], r->total_tokens);
  EXPECT_EQ(j["tokenizer"], "cl100k_base");
  EXPECT_EQ(j["exact"], true);
  ASSERT_FALSE(j["parts"].empty());
  for (const auto& p : j["parts"])
    for (const char* key : {"kind", "path", "node_kind", "file", "line", "tokens", "why", "text"})
      EXPECT_TRUE(p.contains(key)) << key;
  EXPECT_EQ(j["parts"][0]["kind"], "hit");
  EXPECT_EQ(j["parts"].size(), r->parts.size());
}

TEST_F(ContextTest, UnknownModelCountsAreALabelledEstimate) {
  auto r = Assemble("area of a circle", 600, ContextFormat::kMarkdown, "my-local-model");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->exact);
  EXPECT_EQ(r->tokenizer, "estimate");
  EXPECT_THAT(r->markdown, HasSubstr("estimate: no known vocabulary for model `my-local-model`"));
  EXPECT_LE(static_cast<int64_t>(EstimateTokens(r->markdown)), 600);
  EXPECT_EQ(static_cast<int64_t>(EstimateTokens(r->markdown)), r->total_tokens);

  auto exact = Assemble("area of a circle", 600, ContextFormat::kMarkdown, "gpt-4o");
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->exact);
  EXPECT_EQ(exact->tokenizer, "o200k_base");
}

TEST_F(ContextTest, OmittedNamesAreSummarisedWhenTheyDoNotFit) {
  // At a small budget many candidates are left out; the account never
  // lists more than fits, and the result keeps them all.
  auto r = Assemble("points", 60);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(r->total_tokens, 60);
  EXPECT_FALSE(r->omitted.empty());
  EXPECT_THAT(r->markdown, HasSubstr("Left out for want of room"));
}

}  // namespace
}  // namespace ferrograph
