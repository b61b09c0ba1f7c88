// End-to-end tests of the ferrograph binary, driven as a user would: run
// commands, read stdout/stderr and exit codes, kill it mid-write.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kRegex = "/usr/share/cargo/registry/regex-1.7.1";

using ferrograph_test::kBinary;
using ferrograph_test::RunResult;

RunResult Ferrograph(const std::string& args, const std::string& cwd = "") {
  return ferrograph_test::RunFerrograph(args, {cwd, ""});
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("cli_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "graph.db").string();
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void WriteSmallCrate() {
    Write("ws/Cargo.toml", "[package]\nname = \"small\"\nversion = \"0.1.0\"\n");
    Write("ws/src/lib.rs",
          "/// A parser.\n#[derive(Debug, Clone)]\npub struct Parser { depth: u32 }\n"
          "impl Parser {\n    pub fn new() -> Self { Parser { depth: 0 } }\n"
          "    pub fn parse(&self) {}\n}\n"
          "pub mod nested;\n");
    Write("ws/src/nested.rs", "pub fn new() {}\n#[cfg(unix)]\npub fn only_unix() {}\n");
  }
  std::string Db() const { return "--db '" + db_ + "'"; }

  fs::path dir_;
  std::string db_;
};

TEST_F(CliTest, HelpAndUsageExitCodes) {
  RunResult help = Ferrograph("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("Usage: ferrograph"));
  for (const char* cmd : {"index", "stats", "show", "export", "impls", "callers", "callees", "uses",
                          "path", "graph"}) {
    RunResult r = Ferrograph(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_THAT(r.out, HasSubstr(std::string("Usage: ferrograph ") + cmd));
  }
  EXPECT_EQ(Ferrograph("").code, 2);
  RunResult unknown = Ferrograph("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command `frobnicate`"));
  EXPECT_EQ(Ferrograph("index").code, 2);
  EXPECT_EQ(Ferrograph("stats --bogus").code, 2);
  EXPECT_EQ(Ferrograph("index . --jobs many").code, 2);
  EXPECT_EQ(Ferrograph("index . --db").code, 2);
  EXPECT_EQ(Ferrograph("callers").code, 2);
  EXPECT_EQ(Ferrograph("callees f --depth 0").code, 2);
  EXPECT_EQ(Ferrograph("callers f --depth x").code, 2);
  EXPECT_EQ(Ferrograph("uses").code, 2);
  EXPECT_EQ(Ferrograph("path a").code, 2);
  EXPECT_EQ(Ferrograph("path a b c").code, 2);
  EXPECT_EQ(Ferrograph("graph x --max-nodes 0").code, 2);
  RunResult kinds = Ferrograph("graph x --kinds CALLS,NOPE");
  EXPECT_EQ(kinds.code, 2);
  EXPECT_THAT(kinds.err, HasSubstr("unknown edge kind `NOPE`"));
  EXPECT_EQ(Ferrograph("uses T --depth 2").code, 2);
}

// The program runs on jemalloc (CMakeLists.txt): --version says so, as
// jemalloc reports it, and a build that lost it fails here.
TEST_F(CliTest, VersionNamesTheAllocator) {
  RunResult v = Ferrograph("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_THAT(v.out, HasSubstr("ferrograph 0.1.0\n"));
  EXPECT_THAT(v.out, HasSubstr("allocator: jemalloc "));
}

TEST_F(CliTest, IndexStatsShowExport) {
  WriteSmallCrate();
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_THAT(idx.out, HasSubstr("crates 1, files 2"));
  EXPECT_THAT(idx.out, HasSubstr("version: "));

  RunResult stats = Ferrograph("stats --json " + Db());
  ASSERT_EQ(stats.code, 0) << stats.err;
  json s = json::parse(stats.out);
  EXPECT_EQ(s["crates"], 1);
  EXPECT_EQ(s["files"], 2);
  EXPECT_EQ(s["nodes_by_kind"]["struct"], 1);
  EXPECT_EQ(s["versions"], 1);

  RunResult show = Ferrograph("show small::Parser " + Db());
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("struct small::Parser"));
  EXPECT_THAT(show.out, HasSubstr("derive: Debug, Clone"));
  EXPECT_THAT(show.out, HasSubstr("A parser."));
  EXPECT_THAT(show.out, HasSubstr("pub struct Parser { depth: u32 }"));

  RunResult show_json = Ferrograph("show Parser::parse --json " + Db());
  ASSERT_EQ(show_json.code, 0) << show_json.err;
  json node = json::parse(show_json.out);
  EXPECT_EQ(node["kind"], "method");
  EXPECT_EQ(node["path"], "small::Parser::parse");
  EXPECT_EQ(node["file"], "src/lib.rs");
  EXPECT_EQ(node["line"], 6);
  EXPECT_EQ(node["container"]["path"], "small::impl Parser");

  // `new` names two functions: candidates, exit 1.
  RunResult amb = Ferrograph("show new " + Db());
  EXPECT_EQ(amb.code, 1);
  EXPECT_THAT(amb.err, HasSubstr("ambiguous"));
  EXPECT_THAT(amb.out, HasSubstr("small::Parser::new"));
  EXPECT_THAT(amb.out, HasSubstr("small::nested::new"));
  RunResult amb_json = Ferrograph("show new --json " + Db());
  EXPECT_EQ(json::parse(amb_json.out)["candidates"].size(), 2u);

  RunResult missing = Ferrograph("show no_such_thing " + Db());
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no node matches `no_such_thing`"));

  RunResult exp = Ferrograph("export " + Db());
  ASSERT_EQ(exp.code, 0) << exp.err;
  std::istringstream lines(exp.out);
  std::string line;
  int nodes = 0, edges = 0;
  bool saw_cfg = false;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    if (j["type"] == "node") {
      ++nodes;
      for (const char* k :
           {"id", "kind", "path", "name", "file", "line", "end_line", "content_hash"})
        EXPECT_TRUE(j.contains(k)) << k;
      if (j["path"] == "small::nested::only_unix") saw_cfg = j["cfg"][0] == "unix";
    } else {
      ++edges;
      EXPECT_EQ(j["type"], "edge");
      for (const char* k : {"kind", "src", "dst", "src_id", "dst_id"})
        EXPECT_TRUE(j.contains(k)) << k;
    }
  }
  EXPECT_EQ(nodes, s["nodes"].get<int>());
  EXPECT_EQ(edges, s["edges"].get<int>());
  EXPECT_TRUE(saw_cfg);
}

TEST_F(CliTest, ImplsOfTraitsAndTypes) {
  Write("ws/Cargo.toml", "[package]\nname = \"geo\"\nversion = \"0.1.0\"\n");
  Write("ws/src/lib.rs",
        "use std::fmt;\npub mod shapes;\npub mod other;\n"
        "pub trait Shape { fn area(&self) -> f64; }\n"
        "impl fmt::Display for shapes::Circle {\n"
        "    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { Ok(()) }\n}\n");
  Write("ws/src/shapes.rs",
        "use crate::Shape;\n#[derive(Debug, Clone)]\npub struct Circle;\npub struct Square;\n"
        "impl Shape for Circle { fn area(&self) -> f64 { 1.0 } }\n"
        "impl Shape for Square { fn area(&self) -> f64 { 2.0 } }\n"
        "impl Circle { pub fn new() -> Self { Circle } }\n");
  Write("ws/src/other.rs", "pub struct Circle;\n");
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_THAT(idx.out, HasSubstr("IMPLEMENTS"));

  RunResult trait = Ferrograph("impls Shape " + Db());
  ASSERT_EQ(trait.code, 0) << trait.err;
  EXPECT_THAT(trait.out, HasSubstr("trait geo::Shape: 2 implementations"));
  EXPECT_THAT(trait.out, HasSubstr("geo::Shape for geo::shapes::Circle"));
  EXPECT_THAT(trait.out, HasSubstr("geo::Shape for geo::shapes::Square"));

  RunResult type = Ferrograph("impls shapes::Circle --json " + Db());
  ASSERT_EQ(type.code, 0) << type.err;
  json j = json::parse(type.out);
  EXPECT_EQ(j["node"]["path"], "geo::shapes::Circle");
  std::set<std::string> traits;
  for (const json& row : j["implementations"]) {
    EXPECT_EQ(row["self"], "geo::shapes::Circle");
    traits.insert(row["trait"].is_null() ? "inherent" : row["trait"].get<std::string>());
  }
  EXPECT_EQ(traits, (std::set<std::string>{"geo::Shape", "std::fmt::Display", "std::fmt::Debug",
                                           "std::clone::Clone", "inherent"}));

  RunResult display = Ferrograph("impls std::fmt::Display --json " + Db());
  ASSERT_EQ(display.code, 0) << display.err;
  json d = json::parse(display.out);
  EXPECT_EQ(d["node"]["kind"], "external");
  ASSERT_EQ(d["implementations"].size(), 1u);
  EXPECT_EQ(d["implementations"][0]["self"], "geo::shapes::Circle");
  EXPECT_EQ(d["implementations"][0]["derive"], false);

  RunResult ambiguous = Ferrograph("impls Circle " + Db());
  EXPECT_EQ(ambiguous.code, 1);
  EXPECT_THAT(ambiguous.err, HasSubstr("ambiguous"));
  EXPECT_THAT(ambiguous.out, HasSubstr("geo::other::Circle"));
  EXPECT_THAT(ambiguous.out, HasSubstr("geo::shapes::Circle"));
  RunResult ambiguous_json = Ferrograph("impls Circle --json " + Db());
  EXPECT_EQ(ambiguous_json.code, 1);
  EXPECT_EQ(json::parse(ambiguous_json.out)["candidates"].size(), 2u);

  RunResult unknown = Ferrograph("impls NoSuchThing " + Db());
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NoSuchThing"));
  EXPECT_EQ(Ferrograph("impls " + Db()).code, 2);

  RunResult show = Ferrograph("show geo::shapes::Circle --no-source " + Db());
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("IMPLEMENTS    -> external std::fmt::Debug"));
  EXPECT_THAT(show.out, HasSubstr("IMPL_FOR      <- impl"));

  RunResult exported = Ferrograph("export " + Db());
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_THAT(
      exported.out,
      HasSubstr(R"("kind":"IMPLEMENTS","src":"geo::shapes::Circle","dst":"std::fmt::Debug")"));
  EXPECT_THAT(exported.out, HasSubstr(R"("kind":"external","path":"std::fmt::Display")"));
}

// Checks the DOT that `graph` prints: a digraph whose statements are
// defaults, nodes with quoted ids and labels, or edges between declared
// nodes; and, when Graphviz is installed, that `dot` accepts it.
void ExpectValidDot(const std::string& dot, const fs::path& scratch) {
  static const std::regex kNode(
      R"re(^  "([0-9a-f]{32})" \[label="((?:[^"\\]|\\.)*)"(, style=bold)?\];$)re");
  static const std::regex kEdge(
      R"re(^  "([0-9a-f]{32})" -> "([0-9a-f]{32})" \[label="[A-Z_]+( x[0-9]+)?"\];$)re");
  static const std::regex kDefaults(R"re(^  (graph|node|edge) \[.*\];$)re");
  std::istringstream in(dot);
  std::string line;
  std::set<std::string> nodes;
  std::vector<std::pair<std::string, std::string>> edges;
  bool header = false, closed = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("//", 0) == 0) continue;
    if (!header) {
      EXPECT_EQ(line, "digraph ferrograph {");
      header = true;
    } else if (line == "}") {
      closed = true;
    } else if (std::regex_match(line, m, kNode)) {
      nodes.insert(m[1]);
    } else if (std::regex_match(line, m, kEdge)) {
      edges.push_back({m[1], m[2]});
    } else {
      EXPECT_TRUE(std::regex_match(line, kDefaults)) << "unexpected DOT line: " << line;
    }
  }
  EXPECT_TRUE(closed) << dot;
  for (const auto& [a, b] : edges) {
    EXPECT_TRUE(nodes.count(a)) << "edge from undeclared node " << a;
    EXPECT_TRUE(nodes.count(b)) << "edge to undeclared node " << b;
  }
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    fs::path file = scratch / "graph.dot";
    std::ofstream(file) << dot;
    int status = std::system(("dot -Tcanon '" + file.string() + "' >/dev/null").c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "dot rejected:\n" << dot;
  }
}

// `show` and `history --source` print an item's text as it reads in its
// file: the lines after the first lose the indentation the item had there.
// `show` lists call sites with how each was resolved.
TEST_F(CliTest, SourceIsPrintedWithoutTheItemsIndentation) {
  Write("ws/Cargo.toml", "[package]\nname = \"lib\"\nversion = \"0.1.0\"\n");
  Write(
      "ws/src/lib.rs",
      "pub struct Engine;\n\nimpl Engine {\n    /// Starts it.\n    pub fn start(&self) -> u8 {\n"
      "        if true {\n            1\n        } else {\n\n            2\n        }\n    }\n}\n\n"
      "pub fn run(e: &Engine) -> u8 {\n    e.start()\n}\n");
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  const std::string expected =
      "/// Starts it.\npub fn start(&self) -> u8 {\n    if true {\n        1\n    } else {\n\n"
      "        2\n    }\n}\n";
  RunResult show = Ferrograph("show lib::Engine::start " + Db());
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("  source:\n" + expected)) << show.out;
  // Its caller, with the call's line and how it was resolved.
  EXPECT_THAT(show.out, HasSubstr("CALLS         <- function lib::run  (line 16) [method]"));
  RunResult history = Ferrograph("history lib::Engine::start --source " + Db());
  ASSERT_EQ(history.code, 0) << history.err;
  EXPECT_THAT(history.out, HasSubstr(expected)) << history.out;
}

// path and graph need only the containment and impl edges.
// `pub use` re-exports: `show` finds an item under its public path (direct,
// renamed, through a glob, and a method of a re-exported type) and lists
// the public paths it is reachable under.
TEST_F(CliTest, ShowFindsItemsUnderTheirReExportedPaths) {
  Write("ws/Cargo.toml", "[package]\nname = \"lib\"\nversion = \"0.1.0\"\n");
  Write("ws/src/lib.rs",
        "mod imp;\nmod hidden;\npub use imp::Engine;\npub use imp::Config as Settings;\n"
        "pub mod bytes { pub use crate::hidden::*; }\n");
  Write("ws/src/imp.rs",
        "pub struct Engine;\nimpl Engine { pub fn start(&self) {} }\npub struct Config;\n");
  Write("ws/src/hidden.rs", "pub struct Engine;\nfn private_helper() {}\n");
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;

  RunResult direct = Ferrograph("show lib::Engine --no-source " + Db());
  ASSERT_EQ(direct.code, 0) << direct.err;
  EXPECT_THAT(direct.out, HasSubstr("struct lib::imp::Engine"));
  EXPECT_THAT(direct.out, HasSubstr("public path: lib::Engine"));

  RunResult renamed = Ferrograph("show lib::Settings --json --no-source " + Db());
  ASSERT_EQ(renamed.code, 0) << renamed.err;
  json j = json::parse(renamed.out);
  EXPECT_EQ(j["path"], "lib::imp::Config");
  EXPECT_EQ(j["public_paths"], json::array({"lib::Settings"}));

  RunResult glob = Ferrograph("show lib::bytes::Engine --no-source " + Db());
  ASSERT_EQ(glob.code, 0) << glob.err;
  EXPECT_THAT(glob.out, HasSubstr("struct lib::hidden::Engine"));

  RunResult method = Ferrograph("show lib::Engine::start --no-source " + Db());
  ASSERT_EQ(method.code, 0) << method.err;
  EXPECT_THAT(method.out, HasSubstr("method lib::imp::Engine::start"));

  // A private item is not reachable through the glob.
  EXPECT_EQ(Ferrograph("show lib::bytes::private_helper " + Db()).code, 1);
}

TEST_F(CliTest, PathAndGraphOverContainmentAndImpls) {
  Write("ws/Cargo.toml", "[package]\nname = \"geo\"\nversion = \"0.1.0\"\n");
  Write("ws/src/lib.rs", "pub mod shapes;\npub mod other;\npub trait Shape {}\n");
  Write("ws/src/shapes.rs",
        "use crate::Shape;\npub struct Circle;\npub struct Square;\n"
        "impl Shape for Circle {}\nimpl Shape for Square {}\n");
  Write("ws/src/other.rs", "pub struct Circle;\n");
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;

  RunResult down = Ferrograph("path geo geo::shapes::Square " + Db());
  ASSERT_EQ(down.code, 0) << down.err;
  EXPECT_THAT(down.out, HasSubstr("path from crate geo to struct geo::shapes::Square (2 hops)"));
  EXPECT_THAT(down.out, HasSubstr("-[CONTAINS]-> module geo::shapes  (src/lib.rs:1)"));
  EXPECT_THAT(down.out, HasSubstr("-[CONTAINS]-> struct geo::shapes::Square  (src/shapes.rs:3)"));

  // Nothing leads from a type to its trait; either way, through the impl.
  RunResult up = Ferrograph("path shapes::Square geo::Shape --kinds IMPLEMENTS,impl_for " + Db());
  ASSERT_EQ(up.code, 0) << up.err;
  EXPECT_THAT(up.out, HasSubstr("no directed path from struct geo::shapes::Square to trait "
                                "geo::Shape"));
  EXPECT_THAT(up.out, HasSubstr("undirected path"));
  // Hops show the edge's site line when it has one.
  EXPECT_THAT(up.out, HasSubstr("<-[IMPL_FOR"));
  EXPECT_THAT(up.out, HasSubstr("]- impl geo::shapes::impl Shape for Square  (src/shapes.rs:5)\n"));
  EXPECT_THAT(up.out, HasSubstr("-[IMPLEMENTS"));
  EXPECT_THAT(up.out, HasSubstr("]-> trait geo::Shape  (src/lib.rs:3)\n"));
  RunResult up_json =
      Ferrograph("path shapes::Square geo::Shape --kinds IMPLEMENTS,IMPL_FOR --json " + Db());
  ASSERT_EQ(up_json.code, 0) << up_json.err;
  json p = json::parse(up_json.out);
  EXPECT_EQ(p["found"], true);
  EXPECT_EQ(p["directed"], false);
  EXPECT_EQ(p["hops"], 2);
  EXPECT_EQ(p["from"]["path"], "geo::shapes::Square");
  EXPECT_EQ(p["to"]["path"], "geo::Shape");
  EXPECT_EQ(p["start"]["path"], "geo::shapes::Square");
  ASSERT_EQ(p["steps"].size(), 2u);
  EXPECT_EQ(p["steps"][0]["kind"], "IMPL_FOR");
  EXPECT_EQ(p["steps"][0]["direction"], "backward");
  EXPECT_EQ(p["steps"][1]["kind"], "IMPLEMENTS");
  EXPECT_EQ(p["steps"][1]["direction"], "forward");
  EXPECT_EQ(p["steps"][1]["node"]["path"], "geo::Shape");
  RunResult directed_only =
      Ferrograph("path shapes::Square geo::Shape --kinds IMPLEMENTS --directed " + Db());
  EXPECT_EQ(directed_only.code, 1);
  EXPECT_THAT(directed_only.out, HasSubstr("no directed path"));
  EXPECT_THAT(directed_only.out, Not(HasSubstr("undirected")));

  RunResult none = Ferrograph("path geo::other::Circle geo::Shape --kinds IMPLEMENTS " + Db());
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.out, HasSubstr("no undirected path either"));
  RunResult none_json =
      Ferrograph("path geo::other::Circle geo::Shape --kinds IMPLEMENTS --json " + Db());
  EXPECT_EQ(none_json.code, 1);
  EXPECT_EQ(json::parse(none_json.out)["found"], false);

  RunResult ambiguous = Ferrograph("path Circle geo " + Db());
  EXPECT_EQ(ambiguous.code, 1);
  EXPECT_THAT(ambiguous.err, HasSubstr("`Circle` is ambiguous: 2 candidates"));
  EXPECT_THAT(ambiguous.out, HasSubstr("geo::other::Circle"));
  EXPECT_THAT(ambiguous.out, HasSubstr("geo::shapes::Circle"));
  RunResult unknown = Ferrograph("path geo Nowhere " + Db());
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no node matches `Nowhere`"));

  RunResult dot = Ferrograph("graph geo::Shape " + Db());
  ASSERT_EQ(dot.code, 0) << dot.err;
  ExpectValidDot(dot.out, dir_);
  EXPECT_THAT(dot.out, HasSubstr("[label=\"geo::Shape\\ntrait\", style=bold];"));
  EXPECT_THAT(dot.out, HasSubstr("[label=\"geo::shapes::impl Shape for Square\\nimpl\"];"));
  EXPECT_THAT(dot.out, HasSubstr("[label=\"IMPLEMENTS\"];"));

  RunResult g = Ferrograph("graph geo::Shape --kinds IMPLEMENTS,IMPL_FOR --depth 2 --json " + Db());
  ASSERT_EQ(g.code, 0) << g.err;
  json gj = json::parse(g.out);
  EXPECT_EQ(gj["truncated"], false);
  std::map<std::string, int> depth;
  std::set<std::string> ids;
  for (const json& n : gj["nodes"]) {
    depth[n["path"]] = n["depth"];
    ids.insert(n["id"]);
  }
  EXPECT_EQ(depth, (std::map<std::string, int>{{"geo::Shape", 0},
                                               {"geo::shapes::impl Shape for Circle", 1},
                                               {"geo::shapes::impl Shape for Square", 1},
                                               {"geo::shapes::Circle", 2},
                                               {"geo::shapes::Square", 2}}));
  ASSERT_EQ(gj["edges"].size(), 4u);
  for (const json& e : gj["edges"]) {
    EXPECT_TRUE(ids.count(e["src"])) << e.dump();
    EXPECT_TRUE(ids.count(e["dst"])) << e.dump();
    EXPECT_EQ(e["count"], 1);
  }

  RunResult small = Ferrograph("graph geo --depth 3 --max-nodes 3 " + Db());
  ASSERT_EQ(small.code, 0) << small.err;
  EXPECT_THAT(small.out, HasSubstr("// truncated"));
  ExpectValidDot(small.out, dir_);

  RunResult amb_graph = Ferrograph("graph Circle --json " + Db());
  EXPECT_EQ(amb_graph.code, 1);
  EXPECT_EQ(json::parse(amb_graph.out)["candidates"].size(), 2u);
  // callers of a name with no callable match falls back to every match.
  EXPECT_EQ(Ferrograph("callers Circle " + Db()).code, 1);
  RunResult no_callers = Ferrograph("callers geo::Shape " + Db());
  EXPECT_EQ(no_callers.code, 0) << no_callers.err;
  EXPECT_THAT(no_callers.out, HasSubstr("no callers of trait geo::Shape"));
}

// callers, callees and uses need the CALLS and USES_TYPE edges of the
// indexer's name resolution.
TEST_F(CliTest, CallersCalleesAndUsesOfAnIndexedCrate) {
  Write("ws/Cargo.toml", "[package]\nname = \"geo\"\nversion = \"0.1.0\"\n");
  Write("ws/src/lib.rs",
        "pub mod shapes;\n"                               // 1
        "use shapes::Point;\n"                            // 2
        "\n"                                              // 3
        "pub fn main_entry() {\n"                         // 4
        "    let p = make_point(1, 2);\n"                 // 5
        "    report(&p);\n"                               // 6
        "    report(&p);\n"                               // 7
        "}\n"                                             // 8
        "\n"                                              // 9
        "pub fn make_point(x: i32, y: i32) -> Point {\n"  // 10
        "    Point::new(x, y)\n"                          // 11
        "}\n"                                             // 12
        "\n"                                              // 13
        "pub fn report(p: &Point) {\n"                    // 14
        "    let d = p.dist();\n"                         // 15
        "    println!(\"{}\", d);\n"                      // 16
        "}\n"                                             // 17
        "\n"                                              // 18
        "pub fn countdown(n: u32) {\n"                    // 19
        "    if n > 0 {\n"                                // 20
        "        countdown(n - 1);\n"                     // 21
        "    }\n"                                         // 22
        "}\n");
  Write("ws/src/shapes.rs",
        "pub struct Point {\n"                        // 1
        "    pub x: i32,\n"                           // 2
        "    pub y: i32,\n"                           // 3
        "}\n"                                         // 4
        "pub struct Segment {\n"                      // 5
        "    pub a: Point,\n"                         // 6
        "    pub b: Point,\n"                         // 7
        "}\n"                                         // 8
        "impl Point {\n"                              // 9
        "    pub fn new(x: i32, y: i32) -> Self {\n"  // 10
        "        Point { x, y }\n"                    // 11
        "    }\n"                                     // 12
        "    pub fn dist(&self) -> f64 {\n"           // 13
        "        helper(self.x) + helper(self.y)\n"   // 14
        "    }\n"                                     // 15
        "}\n"                                         // 16
        "fn helper(v: i32) -> f64 {\n"                // 17
        "    v as f64\n"                              // 18
        "}\n");
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  json stats = json::parse(Ferrograph("stats --json " + Db()).out);
  if (!stats["edges_by_kind"].contains("CALLS"))
    GTEST_SKIP() << "the indexer wrote no CALLS edges into this database; callers/callees/uses "
                    "need its call and type-use resolution";

  RunResult callees = Ferrograph("callees main_entry --depth 3 " + Db());
  ASSERT_EQ(callees.code, 0) << callees.err;
  EXPECT_EQ(callees.out,
            "callees of function geo::main_entry  (src/lib.rs:4), depth 3\n"
            "  function geo::make_point  (src/lib.rs:10)  at src/lib.rs:5 [exact]\n"
            "    function geo::shapes::Point::new  (src/shapes.rs:10)  at src/lib.rs:11 [import]\n"
            "  function geo::report  (src/lib.rs:14)  at src/lib.rs:6 [exact], 7 [exact]\n"
            "    method geo::shapes::Point::dist  (src/shapes.rs:13)  at src/lib.rs:15 [method]\n"
            "      function geo::shapes::helper  (src/shapes.rs:17)  at src/shapes.rs:14 [exact]\n"
            "5 callees\n");
  RunResult direct = Ferrograph("callees main_entry " + Db());
  ASSERT_EQ(direct.code, 0) << direct.err;
  EXPECT_THAT(direct.out, HasSubstr("2 callees"));
  EXPECT_THAT(direct.out, Not(HasSubstr("Point::new")));

  RunResult callers = Ferrograph("callers helper --depth 3 --json " + Db());
  ASSERT_EQ(callers.code, 0) << callers.err;
  json c = json::parse(callers.out);
  EXPECT_EQ(c["direction"], "callers");
  EXPECT_EQ(c["root"]["path"], "geo::shapes::helper");
  EXPECT_EQ(c["count"], 3);
  EXPECT_EQ(c["truncated"], false);
  ASSERT_EQ(c["results"].size(), 3u);
  std::vector<std::string> tree;
  for (const json& r : c["results"])
    tree.push_back(std::to_string(r["depth"].get<int>()) + " " + r["path"].get<std::string>() +
                   " via " + r["via"].get<std::string>());
  EXPECT_EQ(tree, (std::vector<std::string>{"1 geo::shapes::Point::dist via geo::shapes::helper",
                                            "2 geo::report via geo::shapes::Point::dist",
                                            "3 geo::main_entry via geo::report"}));
  const json& sites = c["results"][2]["call_sites"];
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0], (json{{"file", "src/lib.rs"}, {"line", 6}, {"resolved", "exact"}}));
  EXPECT_EQ(sites[1]["line"], 7);
  EXPECT_EQ(c["results"][1]["call_sites"][0]["resolved"], "method");

  RunResult recursion = Ferrograph("callers countdown " + Db());
  ASSERT_EQ(recursion.code, 0) << recursion.err;
  EXPECT_THAT(recursion.out,
              HasSubstr("  function geo::countdown  (src/lib.rs:19)  at src/lib.rs:21 [exact]  "
                        "(cycle)\n"));
  RunResult nobody = Ferrograph("callers main_entry " + Db());
  ASSERT_EQ(nobody.code, 0) << nobody.err;
  EXPECT_THAT(nobody.out, HasSubstr("no callers of function geo::main_entry"));

  RunResult uses = Ferrograph("uses Point " + Db());
  ASSERT_EQ(uses.code, 0) << uses.err;
  EXPECT_THAT(uses.out, HasSubstr("struct geo::shapes::Point: used by"));
  EXPECT_THAT(uses.out, HasSubstr("  param:\n    function geo::report  (src/lib.rs:14)\n"));
  EXPECT_THAT(uses.out, HasSubstr("    function geo::make_point  (src/lib.rs:10)\n"));
  EXPECT_THAT(uses.out, HasSubstr("  field:\n    field geo::shapes::Segment::a  (src/shapes.rs:6)\n"
                                  "    field geo::shapes::Segment::b  (src/shapes.rs:7)\n"));
  EXPECT_THAT(uses.out, HasSubstr("  body:\n    function geo::make_point  (src/lib.rs:11)\n"
                                  "    function geo::shapes::Point::new  (src/shapes.rs:11)\n"));
  RunResult uses_json = Ferrograph("uses shapes::Point --json " + Db());
  ASSERT_EQ(uses_json.code, 0) << uses_json.err;
  json u = json::parse(uses_json.out);
  EXPECT_EQ(u["node"]["path"], "geo::shapes::Point");
  std::map<std::string, std::set<std::string>> roles;
  for (const json& row : u["uses"])
    for (const json& r : row["roles"]) roles[row["path"]].insert(r);
  EXPECT_EQ(roles["geo::report"], (std::set<std::string>{"param"}));
  // `Point::new(x, y)` in its body uses Point too.
  EXPECT_EQ(roles["geo::make_point"], (std::set<std::string>{"return", "body"}));
  EXPECT_EQ(roles["geo::shapes::Segment::a"], (std::set<std::string>{"field"}));
  EXPECT_EQ(u["count"], u["uses"].size());

  RunResult path = Ferrograph("path main_entry helper " + Db());
  ASSERT_EQ(path.code, 0) << path.err;
  EXPECT_EQ(path.out,
            "path from function geo::main_entry to function geo::shapes::helper (3 hops):\n"
            "  function geo::main_entry  (src/lib.rs:4)\n"
            "  -[CALLS src/lib.rs:6]-> function geo::report  (src/lib.rs:14)\n"
            "  -[CALLS src/lib.rs:15]-> method geo::shapes::Point::dist  (src/shapes.rs:13)\n"
            "  -[CALLS src/shapes.rs:14]-> function geo::shapes::helper  (src/shapes.rs:17)\n");

  RunResult calls_graph = Ferrograph("graph report --kinds CALLS --depth 1 --json " + Db());
  ASSERT_EQ(calls_graph.code, 0) << calls_graph.err;
  json g = json::parse(calls_graph.out);
  std::set<std::string> edges;
  for (const json& e : g["edges"])
    edges.insert(e["src_path"].get<std::string>() + " -> " + e["dst_path"].get<std::string>() +
                 " x" + std::to_string(e["count"].get<int>()));
  EXPECT_EQ(edges, (std::set<std::string>{"geo::main_entry -> geo::report x2",
                                          "geo::report -> geo::shapes::Point::dist x1"}));
  RunResult dot = Ferrograph("graph report --kinds CALLS " + Db());
  ASSERT_EQ(dot.code, 0) << dot.err;
  ExpectValidDot(dot.out, dir_);
  EXPECT_THAT(dot.out, HasSubstr("[label=\"CALLS x2\"]"));
}

TEST_F(CliTest, DefaultDatabaseLivesInTheIndexedRoot) {
  WriteSmallCrate();
  std::string ws = (dir_ / "ws").string();
  RunResult idx = Ferrograph("index '" + ws + "' --quiet");
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_TRUE(fs::exists(dir_ / "ws" / ".ferrograph" / "graph.db"));
  // Found from the root and from below it.
  EXPECT_EQ(Ferrograph("stats", ws).code, 0);
  EXPECT_EQ(Ferrograph("stats", (dir_ / "ws" / "src").string()).code, 0);
  RunResult none = Ferrograph("stats", dir_.string());
  EXPECT_EQ(none.code, 1);
  EXPECT_THAT(none.err, HasSubstr("no database found"));
}

TEST_F(CliTest, ClearErrorsForBadPathsAndDatabases) {
  RunResult missing = Ferrograph("index '" + (dir_ / "nope").string() + "' " + Db());
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope: no such file or directory"));

  Write("junk.db", std::string(8192, 'x'));
  RunResult corrupt = Ferrograph("stats --db '" + (dir_ / "junk.db").string() + "'");
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_THAT(corrupt.err, HasSubstr("not a ferrograph database"));
  EXPECT_THAT(corrupt.err, HasSubstr("junk.db"));
  // Indexing into it is refused too, and the file is left alone.
  WriteSmallCrate();
  RunResult idx = Ferrograph("index '" + (dir_ / "ws").string() + "' --db '" +
                             (dir_ / "junk.db").string() + "'");
  EXPECT_EQ(idx.code, 1);
  EXPECT_EQ(fs::file_size(dir_ / "junk.db"), 8192u);

  RunResult nodb = Ferrograph("stats --db '" + (dir_ / "absent.db").string() + "'");
  EXPECT_EQ(nodb.code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "absent.db"));
}

TEST_F(CliTest, IndexesARealCrate) {
  if (!fs::exists(kRegex)) GTEST_SKIP() << kRegex << " not installed";
  RunResult idx = Ferrograph("index " + kRegex + " --json " + Db());
  ASSERT_EQ(idx.code, 0) << idx.err;
  json r = json::parse(idx.out);
  EXPECT_GE(r["files_parsed"].get<int>(), 25);
  EXPECT_EQ(r["files_failed"], 0);
  EXPECT_GT(r["nodes"].get<int>(), 1500);
  RunResult show = Ferrograph("show regex::re_unicode::Regex --json --no-source " + Db());
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out)["kind"], "struct");
  RunResult again = Ferrograph("index " + kRegex + " --json " + Db());
  json r2 = json::parse(again.out);
  EXPECT_EQ(r2["files_parsed"], 0);
  EXPECT_TRUE(r2["version"].is_null());
}

// Runs `ferrograph index ws --db db --quiet` and SIGKILLs it after
// `delay_ms`; returns whether the kill (rather than a normal exit) ended it.
bool IndexAndKill(const std::string& ws, const std::string& db, int delay_ms) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(kBinary.c_str(), kBinary.c_str(), "index", ws.c_str(), "--db", db.c_str(), "--quiet",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

// Copies `count` registry crates (regex first) into `ws`.
void MakeCorpus(const fs::path& ws, int count) {
  fs::create_directories(ws);
  fs::copy(kRegex, ws / "regex", fs::copy_options::recursive);
  int added = 0;
  for (const auto& entry : fs::directory_iterator("/usr/share/cargo/registry")) {
    std::string name = entry.path().filename().string();
    if (name.rfind("regex", 0) == 0) continue;
    if (added++ == count) break;
    fs::copy(entry.path(), ws / name, fs::copy_options::recursive);
  }
}

// The first index of a workspace writes through a rollback journal; a kill
// at any moment of it leaves a database that opens, reads as empty (or as
// the finished version), and takes the next run.
TEST_F(CliTest, KillDuringFirstIndexLeavesAUsableDatabase) {
  if (!fs::exists(kRegex)) GTEST_SKIP() << "crates not installed";
  fs::path ws = dir_ / "corpus";
  MakeCorpus(ws, 40);
  for (int delay_ms : {100, 400, 900, 1600, 2500, 3500}) {
    // A fresh database each time: its journal, WAL and shared-memory files
    // too (a WAL left beside another database's file is not that file's).
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(db_ + suffix);
    bool killed = IndexAndKill(ws.string(), db_, delay_ms);
    RunResult stats = Ferrograph("stats --json " + Db());
    ASSERT_EQ(stats.code, 0) << "after kill at " << delay_ms << " ms: " << stats.err;
    json s = json::parse(stats.out);
    if (s["versions"] == 0) {
      EXPECT_EQ(s["nodes"], 0) << delay_ms;
    } else {
      EXPECT_FALSE(killed && s["versions"] != 1) << delay_ms;
      EXPECT_GT(s["nodes"].get<int>(), 0) << delay_ms;
    }
  }
  RunResult finish = Ferrograph("index '" + ws.string() + "' --quiet --json " + Db());
  ASSERT_EQ(finish.code, 0) << finish.err;
  EXPECT_GT(json::parse(Ferrograph("stats --json " + Db()).out)["nodes"].get<int>(), 1000);
}

// Kills `ferrograph index` with SIGKILL at several moments of a large
// re-index; after each kill the previous version must be intact and
// readable, and a final run must complete the work.
TEST_F(CliTest, KillDuringIndexLeavesPreviousVersionIntact) {
  if (!fs::exists(kRegex)) GTEST_SKIP() << "crates not installed";
  fs::path ws = dir_ / "corpus";
  MakeCorpus(ws, 0);
  RunResult first = Ferrograph("index '" + ws.string() + "' --quiet --json " + Db());
  ASSERT_EQ(first.code, 0) << first.err;
  json before = json::parse(Ferrograph("stats --json " + Db()).out);
  ASSERT_EQ(before["versions"], 1);

  // Make the next run large: many more crates beside regex.
  fs::remove_all(ws);
  MakeCorpus(ws, 40);
  for (int delay_ms : {50, 200, 500, 1000, 2000, 3000}) {
    bool killed = IndexAndKill(ws.string(), db_, delay_ms);
    RunResult stats = Ferrograph("stats --json " + Db());
    ASSERT_EQ(stats.code, 0) << "after kill at " << delay_ms << " ms: " << stats.err;
    json after = json::parse(stats.out);
    if (killed) {
      EXPECT_EQ(after["versions"], before["versions"]) << delay_ms;
      EXPECT_EQ(after["nodes"], before["nodes"]) << delay_ms;
      EXPECT_EQ(after["edges"], before["edges"]) << delay_ms;
    }
    RunResult show = Ferrograph("show regex::re_unicode::Regex --no-source " + Db());
    EXPECT_EQ(show.code, 0) << show.err;
  }
  RunResult finish = Ferrograph("index '" + ws.string() + "' --quiet --json " + Db());
  ASSERT_EQ(finish.code, 0) << finish.err;
  json done = json::parse(Ferrograph("stats --json " + Db()).out);
  EXPECT_EQ(done["versions"], 2);
  EXPECT_GT(done["nodes"].get<int>(), before["nodes"].get<int>());
  EXPECT_GT(done["crates"].get<int>(), 10);
}

}  // namespace
