// End-to-end tests of `ferrograph search`, `model train`, several embedders
// and `gc`, through the binary as a user runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "embed/testing/http_test_server.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using ferrograph_test::RunResult;

// Runs the binary with `args` (shell words), `env` ("NAME=value ") first.
RunResult Ferrograph(const std::string& args, const std::string& env = "") {
  return ferrograph_test::RunFerrograph(args, {"", env});
}

class CliSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A user config directory of this process's own: `model train` signs
    // with (and may create) the user's key, and no user config of the
    // machine's applies.
    ::setenv("XDG_CONFIG_HOME",
             (fs::path(testing::TempDir()) / ("cli_search_config_" + std::to_string(::getpid())))
                 .c_str(),
             1);
    dir_ = fs::path(testing::TempDir()) /
           ("cli_search_" +
            std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "graph.db").string();
    Write("ws/Cargo.toml", "[package]\nname = \"shapes\"\nversion = \"0.1.0\"\n");
    Write("ws/src/lib.rs",
          "pub mod io;\n"
          "/// Something with an area.\n"
          "pub trait Shape {\n    fn area(&self) -> f64;\n    fn perimeter(&self) -> f64;\n}\n"
          "/// A round shape.\npub struct Circle { pub radius: f64 }\n"
          "pub struct Square { pub side: f64 }\n"
          "impl Shape for Circle {\n"
          "    fn area(&self) -> f64 { 3.14159 * self.radius * self.radius }\n"
          "    fn perimeter(&self) -> f64 { 2.0 * 3.14159 * self.radius }\n}\n"
          "impl Shape for Square {\n"
          "    fn area(&self) -> f64 { self.side * self.side }\n"
          "    fn perimeter(&self) -> f64 { 4.0 * self.side }\n}\n"
          "/// Sums the areas of all shapes.\n"
          "pub fn total_area(shapes: &[Box<dyn Shape>]) -> f64 {\n"
          "    shapes.iter().map(|s| s.area()).sum()\n}\n");
    Write(
        "ws/src/io.rs",
        "/// Reads the configuration file from disk.\n"
        "pub fn read_config_file(path: &str) -> String { std::fs::read_to_string(path).unwrap() }\n"
        "/// Writes a report of the shapes to standard output.\n"
        "pub fn print_report(lines: &[String]) { for l in lines { println!(\"{}\", l); } }\n");
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  std::string Db() const { return "--db '" + db_ + "'"; }
  std::string Ws() const { return "'" + (dir_ / "ws").string() + "'"; }
  json SearchJson(const std::string& args) {
    RunResult r = Ferrograph("search " + args + " --json " + Db());
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
    return r.code == 0 ? json::parse(r.out) : json::object({{"results", json::array()}});
  }
  static std::vector<std::string> Paths(const json& j) {
    std::vector<std::string> out;
    for (const json& r : j["results"]) out.push_back(r["path"]);
    return out;
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(CliSearchTest, FindsCodeByWordsAndMeaningWithFiltersAndReasons) {
  RunResult idx = Ferrograph("index " + Ws() + " --json " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  json report = json::parse(idx.out);
  ASSERT_EQ(report["embeddings"].size(), 1u);
  EXPECT_EQ(report["embeddings"][0]["model"], "hash-v2-384");
  EXPECT_GT(report["embeddings"][0]["embedded"].get<int>(), 5);
  EXPECT_GT(report["lexical_rows"].get<int>(), 5);

  json j = SearchJson("'read the configuration file'");
  ASSERT_FALSE(j["results"].empty());
  const json& top = j["results"][0];
  EXPECT_EQ(top["path"], "shapes::io::read_config_file");
  EXPECT_EQ(top["kind"], "function");
  EXPECT_EQ(top["file"], "src/io.rs");
  EXPECT_EQ(top["line"], 1);  // the item starts at its doc comment
  EXPECT_THAT(top["signature"].get<std::string>(), HasSubstr("pub fn read_config_file"));
  EXPECT_GT(top["score"].get<double>(), 0);
  EXPECT_THAT(top["why"].get<std::string>(), HasSubstr("lexical #1"));
  EXPECT_EQ(j["mode"], "hybrid");
  EXPECT_EQ(j["model"], "hash-v2-384");

  // Each mode alone; vector results carry a similarity.
  json lex = SearchJson("'configuration file' --mode lexical");
  EXPECT_EQ(lex["results"][0]["path"], "shapes::io::read_config_file");
  EXPECT_EQ(lex["model"], "");
  // At most k, and only vectors that share something with the query: in
  // this small crate fewer than k do.
  json vec = SearchJson("'config file' --mode vector -k 3");
  ASSERT_FALSE(vec["results"].empty());
  EXPECT_LE(vec["results"].size(), 3u);
  EXPECT_EQ(vec["results"][0]["path"], "shapes::io::read_config_file");
  for (const json& r : vec["results"]) {
    std::string why = r["why"];
    EXPECT_THAT(why, HasSubstr("similarity 0."));
    EXPECT_THAT(why, ::testing::Not(HasSubstr("similarity 0.000"))) << r["path"];
  }

  // Filters.
  for (const std::string& p : Paths(SearchJson("'area of a shape' --kind struct")))
    EXPECT_THAT(p, ::testing::AnyOf("shapes::Circle", "shapes::Square"));
  for (const std::string& p : Paths(SearchJson("'shapes report' --path shapes::io")))
    EXPECT_THAT(p, StartsWith("shapes::io"));
  EXPECT_FALSE(Paths(SearchJson("'shapes report' --crate shapes")).empty());
  EXPECT_TRUE(Paths(SearchJson("'shapes report' --crate nosuchcrate")).empty());

  // The seed's query: the functions most similar to a question among the
  // implementors of a trait.
  json impl = SearchJson("'perimeter of a circle' --implements Shape --kind function,method -k 5");
  std::vector<std::string> paths = Paths(impl);
  ASSERT_FALSE(paths.empty());
  EXPECT_LE(paths.size(), 5u);
  EXPECT_EQ(paths[0], "shapes::<Circle as Shape>::perimeter");
  for (const std::string& p : paths) EXPECT_THAT(p, HasSubstr(" as Shape>::")) << p;

  // Human output names the reasons too.
  RunResult text = Ferrograph("search 'read the configuration file' -k 2 " + Db());
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("1. shapes::io::read_config_file  function  src/io.rs:1"));
  EXPECT_THAT(text.out, HasSubstr("why: lexical #1"));
}

// A database indexed before the configured model existed (its vectors are
// hash-v1's): hybrid search and context answer from the lexical half and
// warn; vector search fails naming the fix; the next index embeds the new
// model's vectors and gc drops the old ones.
TEST_F(CliSearchTest, VectorsOfAnOlderModelLeaveHybridLexicalWithAWarning) {
  ASSERT_EQ(Ferrograph("index " + Ws() + " " + Db()).code, 0);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "UPDATE models SET model_id = 'hash-v1-384'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);

  RunResult text = Ferrograph("search 'read the configuration file' " + Db());
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.err, HasSubstr("warning: vector search skipped"));
  EXPECT_THAT(text.out, HasSubstr("shapes::io::read_config_file"));
  json j = SearchJson("'read the configuration file'");
  EXPECT_THAT(j.value("warning", ""), HasSubstr("no vectors of model hash-v2-384"));
  EXPECT_EQ(j["model"], "");
  ASSERT_FALSE(j["results"].empty());
  EXPECT_EQ(j["results"][0]["path"], "shapes::io::read_config_file");
  RunResult context = Ferrograph("context 'read the configuration file' " + Db());
  EXPECT_EQ(context.code, 0) << context.err;
  EXPECT_THAT(context.err, HasSubstr("warning: vector search skipped"));
  EXPECT_THAT(context.out, HasSubstr("read_config_file"));
  RunResult vector = Ferrograph("search 'configuration file' --mode vector " + Db());
  EXPECT_EQ(vector.code, 1);
  EXPECT_THAT(vector.err, HasSubstr("ferrograph index"));

  ASSERT_EQ(Ferrograph("index " + Ws() + " " + Db()).code, 0);
  json after = SearchJson("'read the configuration file'");
  EXPECT_FALSE(after.contains("warning")) << after;
  EXPECT_EQ(after["model"], "hash-v2-384");
  RunResult gc = Ferrograph("gc " + Db());
  EXPECT_EQ(gc.code, 0) << gc.err;
  EXPECT_THAT(gc.out, HasSubstr("1 models"));
}

TEST_F(CliSearchTest, UnchangedContentIsNeverEmbeddedAgain) {
  ASSERT_EQ(Ferrograph("index " + Ws() + " --quiet " + Db()).code, 0);
  json again = json::parse(Ferrograph("index " + Ws() + " --json " + Db()).out);
  EXPECT_EQ(again["embeddings"][0]["embedded"], 0);
  EXPECT_EQ(again["embeddings"][0]["vector_index"], "fresh");
  // One edited function: only its content is embedded.
  Write("ws/src/io.rs",
        "/// Reads the configuration file from disk.\n"
        "pub fn read_config_file(path: &str) -> String { String::from(path) }\n"
        "/// Writes a report of the shapes to standard output.\n"
        "pub fn print_report(lines: &[String]) { for l in lines { println!(\"{}\", l); } }\n");
  json edit = json::parse(Ferrograph("index " + Ws() + " --json " + Db()).out);
  EXPECT_EQ(edit["embeddings"][0]["embedded"], 1);
  // One vector behind: the sidecar is not rewritten for it...
  EXPECT_THAT(edit["embeddings"][0]["vector_index"].get<std::string>(), HasSubstr("deferred (+1"));
  // ...and a search adds it when it loads the sidecar: the edited function
  // (its new content has only the new vector) is found by vector.
  json found = SearchJson("'writes a report of the shapes to standard output' --mode vector -k 1");
  ASSERT_EQ(found["results"].size(), 1u);
  EXPECT_EQ(found["results"][0]["path"], "shapes::io::print_report");
}

TEST_F(CliSearchTest, ModelsNeverShareAVectorSpaceAndGcDropsUnconfiguredOnes) {
  ASSERT_EQ(Ferrograph("index " + Ws() + " --quiet " + Db()).code, 0);
  std::string model = (dir_ / "ft.bin").string();
  RunResult train = Ferrograph("model train -o '" + model + "' --dim 16 " + Db());
  ASSERT_EQ(train.code, 0) << train.err;
  ASSERT_TRUE(fs::exists(model));
  RunResult both =
      Ferrograph("index " + Ws() + " --json --embedder hash,fasttext:'" + model + "' " + Db());
  ASSERT_EQ(both.code, 0) << both.err;
  json r = json::parse(both.out);
  ASSERT_EQ(r["embeddings"].size(), 2u);
  EXPECT_EQ(r["embeddings"][0]["embedded"], 0);  // hash: everything embedded before
  std::string ft_id = r["embeddings"][1]["model"];
  EXPECT_THAT(ft_id, StartsWith("fasttext-"));
  EXPECT_GT(r["embeddings"][1]["embedded"].get<int>(), 5);

  // Each search is answered in one model's space, named in the answer.
  EXPECT_EQ(SearchJson("'area' --mode vector")["model"], "hash-v2-384");
  json ft = SearchJson("'area' --mode vector --embedder fasttext:'" + model + "'");
  EXPECT_EQ(ft["model"], ft_id);
  EXPECT_FALSE(ft["results"].empty());
  // A model never indexed has no vectors: a clear error, not another
  // model's space.
  RunResult none = Ferrograph("search area --embedder fasttext:/nonexistent.bin " + Db());
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("/nonexistent.bin"));

  // Configure hash alone: gc drops the fastText vectors and its sidecar.
  ASSERT_EQ(Ferrograph("index " + Ws() + " --quiet --embedder hash " + Db()).code, 0);
  RunResult gc = Ferrograph("gc --json " + Db());
  ASSERT_EQ(gc.code, 0) << gc.err;
  json g = json::parse(gc.out);
  EXPECT_EQ(g["models_removed"], 1);
  EXPECT_EQ(g["vectors_removed"], r["embeddings"][1]["embedded"]);
  EXPECT_EQ(g["files_removed"].size(), 1u);
  RunResult gone =
      Ferrograph("search area --mode vector --embedder fasttext:'" + model + "' " + Db());
  EXPECT_EQ(gone.code, 1);
  EXPECT_THAT(gone.err, HasSubstr("no vectors of model " + ft_id));
  EXPECT_EQ(SearchJson("'area' --mode vector")["model"], "hash-v2-384");
  // Nothing left to collect.
  EXPECT_EQ(json::parse(Ferrograph("gc --json " + Db()).out)["vectors_removed"], 0);
}

TEST_F(CliSearchTest, BadRequestsAreUsageOrClearErrors) {
  ASSERT_EQ(Ferrograph("index " + Ws() + " --quiet " + Db()).code, 0);
  EXPECT_EQ(Ferrograph("search " + Db()).code, 2);
  EXPECT_EQ(Ferrograph("search x --mode fuzzy " + Db()).code, 2);
  EXPECT_EQ(Ferrograph("search x -k 0 " + Db()).code, 2);
  EXPECT_EQ(Ferrograph("search x --kind gizmo " + Db()).code, 2);
  RunResult use = Ferrograph("search x --kind use " + Db());
  EXPECT_EQ(use.code, 1);
  EXPECT_THAT(use.err, HasSubstr("not searchable"));
  RunResult trait = Ferrograph("search x --implements NoSuchTrait " + Db());
  EXPECT_EQ(trait.code, 1);
  EXPECT_THAT(trait.err, HasSubstr("NoSuchTrait: no such trait"));
  EXPECT_EQ(Ferrograph("index " + Ws() + " --embedder bogus " + Db()).code, 1);
  EXPECT_EQ(Ferrograph("model fly " + Db()).code, 2);
  // FTS5 syntax in a query is just words.
  EXPECT_EQ(Ferrograph("search '\"(NEAR AND* ' " + Db()).code, 0);
  // A damaged sidecar is rebuilt, not trusted.
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().extension() == ".hnsw") std::ofstream(e.path(), std::ios::trunc) << "garbage";
  json j = SearchJson("'configuration file' --mode vector");
  EXPECT_FALSE(j["results"].empty());
}

TEST_F(CliSearchTest, TestCodeIsDemotedIncludedOrExcluded) {
  Write("ws/src/io.rs",
        "/// Reads the configuration file from disk.\n"
        "pub fn read_config_file(path: &str) -> String { std::fs::read_to_string(path).unwrap() }\n"
        "#[cfg(test)]\nmod tests {\n    use super::*;\n"
        "    #[test]\n    fn read_config_file_from_disk_twice() {\n"
        "        read_config_file(\"a\");\n        read_config_file(\"a\");\n    }\n}\n");
  ASSERT_EQ(Ferrograph("index " + Ws() + " --quiet " + Db()).code, 0);
  const std::string query = "'read the config file from disk twice' -k 3";
  const std::string test_fn = "shapes::io::tests::read_config_file_from_disk_twice";
  std::vector<std::string> included = Paths(SearchJson(query + " --tests include"));
  ASSERT_FALSE(included.empty());
  EXPECT_EQ(included[0], test_fn);

  json demoted = SearchJson(query);  // the default
  ASSERT_GE(demoted["results"].size(), 2u);
  EXPECT_EQ(demoted["results"][0]["path"], "shapes::io::read_config_file");
  EXPECT_EQ(demoted["results"][1]["path"], test_fn);
  EXPECT_THAT(demoted["results"][1]["why"].get<std::string>(),
              HasSubstr("test code, score x0.5 (#[test] on " + test_fn + ")"));

  for (const char* mode : {"hybrid", "lexical"}) {
    std::vector<std::string> excluded =
        Paths(SearchJson(query + " --tests exclude --mode " + std::string(mode)));
    EXPECT_FALSE(excluded.empty()) << mode;
    EXPECT_EQ(std::count(excluded.begin(), excluded.end(), test_fn), 0) << mode;
  }
  RunResult context = Ferrograph(
      "context 'read the config file from disk twice' --tests exclude "
      "--json " +
      Db());
  ASSERT_EQ(context.code, 0) << context.err;
  EXPECT_THAT(context.out, HasSubstr("shapes::io::read_config_file"));
  EXPECT_THAT(context.out, ::testing::Not(HasSubstr(test_fn)));

  RunResult bad = Ferrograph("search x --tests sometimes " + Db());
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--tests wants demote, include or exclude"));
  EXPECT_EQ(Ferrograph("context x --tests sometimes " + Db()).code, 2);
}

TEST_F(CliSearchTest, IndexWithoutSearchOrVectors) {
  json r = json::parse(Ferrograph("index " + Ws() + " --json --embedder none " + Db()).out);
  EXPECT_TRUE(r["embeddings"].empty());
  EXPECT_EQ(SearchJson("'configuration file'")["results"][0]["path"],
            "shapes::io::read_config_file");
  RunResult vec = Ferrograph("search config --mode vector " + Db());
  EXPECT_EQ(vec.code, 1);
  EXPECT_THAT(vec.err, HasSubstr("no embedder is configured"));
}

// A local server that speaks the OpenAI embeddings protocol: each text's
// vector counts its letters a..p, so related texts are near.
TEST_F(CliSearchTest, IndexesAndSearchesThroughAnOpenAICompatibleServer) {
  std::atomic<bool> fail{false};
  auto server = ferrograph::HttpTestServer::Start([&](const ferrograph::HttpRequest& req) {
    ferrograph::HttpResponse resp;
    if (fail) {
      resp.status = 500;
      resp.body = R"({"error":{"message":"model is loading"}})";
      return resp;
    }
    json body = json::parse(req.body, nullptr, false);
    if (req.path != "/v1/embeddings" || !body.is_object() || body["model"] != "test-embed") {
      resp.status = 404;
      resp.body = R"({"error":{"message":"no such model"}})";
      return resp;
    }
    json data = json::array();
    int i = 0;
    for (const json& text : body["input"]) {
      std::vector<double> v(16, 0.0);
      for (char c : text.get<std::string>())
        if (c >= 'a' && c <= 'p') v[static_cast<size_t>(c - 'a')] += 1;
      data.push_back({{"index", i++}, {"embedding", v}});
    }
    resp.body = json({{"data", data}, {"model", "test-embed"}}).dump();
    return resp;
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::string env = "FERROGRAPH_OPENAI_BASE_URL=" + (*server)->base_url() + "/v1 ";
  RunResult idx = Ferrograph("index " + Ws() + " --json --embedder openai:test-embed " + Db(), env);
  ASSERT_EQ(idx.code, 0) << idx.err;
  json r = json::parse(idx.out);
  ASSERT_EQ(r["embeddings"].size(), 1u);
  std::string id = r["embeddings"][0]["model"];
  EXPECT_EQ(id, "openai:test-embed@" + (*server)->base_url() + "/v1");
  EXPECT_GT(r["embeddings"][0]["embedded"].get<int>(), 5);
  int requests = (*server)->request_count();

  RunResult vec = Ferrograph(
      "search 'read config file' --mode vector --json --embedder openai:test-embed " + Db(), env);
  ASSERT_EQ(vec.code, 0) << vec.err;
  json v = json::parse(vec.out);
  EXPECT_EQ(v["model"], id);
  EXPECT_FALSE(v["results"].empty());
  EXPECT_EQ((*server)->request_count(), requests + 1);  // the query alone

  // A server that keeps failing: a clear error naming the status, after
  // the graph itself was committed.
  fail = true;
  Write("ws/src/extra.rs", "pub fn added_later() {}\n");
  Write("ws/src/lib.rs", "pub mod extra;\n");
  RunResult broken = Ferrograph("index " + Ws() + " --quiet " + Db(), env);
  EXPECT_EQ(broken.code, 1);
  EXPECT_THAT(broken.err, HasSubstr("500"));
  EXPECT_THAT(broken.err, HasSubstr("model is loading"));
  EXPECT_THAT(Ferrograph("show added_later " + Db()).code, 0);
}

}  // namespace
