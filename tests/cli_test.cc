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
#include <set>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;

const std::string kBinary = std::string(FERROGRAPH_BINARY_DIR) + "/ferrograph";
const std::string kRegex = "/usr/share/cargo/registry/regex-1.7.1";

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `args` (shell words, already quoted) and captures both streams.
RunResult Ferrograph(const std::string& args, const std::string& cwd = "") {
  static int counter = 0;
  fs::path dir = fs::path(testing::TempDir()) /
                 ("cli_run_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(dir);
  std::string out = (dir / "out").string(), err = (dir / "err").string();
  std::string cmd =
      (cwd.empty() ? "" : "cd '" + cwd + "' && ") + kBinary + " " + args + " >" + out + " 2>" + err;
  int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream o(out), e(err);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
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
  for (const char* cmd : {"index", "stats", "show", "export", "impls"}) {
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
    fs::remove(db_);
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
