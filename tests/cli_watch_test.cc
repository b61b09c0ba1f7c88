// End-to-end tests of `ferrograph watch`: the binary runs as a child
// process on a crate in a temporary directory; the test edits files the way
// users and editors do and reads the change events from `--json`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "cli_runner.h"

namespace ferrograph_test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

// `ferrograph watch ...` in the background; its change events read from
// stdout.
class Child : public ChildProcess {
 public:
  explicit Child(const std::vector<std::string>& args, const std::string& err_path = "")
      : ChildProcess(args, err_path) {}

  // The next change event; fails the test after `timeout`.
  // The next change event (a line with "version"); the warning and error
  // lines before it go to notes.
  json Event(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    for (;;) {
      std::optional<std::string> line = Line(timeout);
      EXPECT_TRUE(line.has_value()) << "no change event within " << timeout.count() << " s";
      if (!line) return json::object();
      json j = json::parse(*line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << *line;
      if (!j.is_object()) return json::object();
      if (j.contains("version")) return j;
      EXPECT_TRUE(j.contains("warning") || j.contains("error")) << *line;
      notes.push_back(j);
    }
  }
  std::vector<json> notes;
};

class CliWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("cli_watch_" + std::to_string(getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ws_ = dir_ / "ws";
    fs::create_directories(ws_ / "src");
    db_ = (dir_ / "graph.db").string();
    Write("Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((ws_ / rel).parent_path());
    std::ofstream(ws_ / rel, std::ios::binary | std::ios::trunc) << text;
  }
  // An editor's save: the new text goes to a temporary file renamed over
  // the old one.
  void SaveLikeAnEditor(const std::string& rel, const std::string& text) {
    fs::path tmp = ws_ / (rel + ".tmp~");
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
    fs::rename(tmp, ws_ / rel);
  }

  static std::set<std::string> Set(const json& list) {
    std::set<std::string> out;
    for (const auto& v : list) out.insert(v.get<std::string>());
    return out;
  }

  fs::path dir_, ws_;
  std::string db_;
};

TEST_F(CliWatchTest, EveryKindOfChangeIsOneVersionWithItsEvent) {
  Write("src/lib.rs", "pub mod a;\n\npub fn top() -> u32 {\n    a::inner()\n}\n");
  Write("src/a.rs", "pub fn inner() -> u32 {\n    1\n}\n\npub fn other() {}\n");
  Child watch({"watch", ws_.string(), "--db", db_, "--json", "--debounce", "30"});
  json first = watch.Event();
  EXPECT_EQ(first["ordinal"], 1);
  EXPECT_THAT(Set(first["added"]), Contains("demo::a::inner"));

  // A body edit: exactly that function changes.
  Write("src/a.rs", "pub fn inner() -> u32 {\n    2\n}\n\npub fn other() {}\n");
  json edit = watch.Event();
  EXPECT_EQ(edit["ordinal"], 2);
  EXPECT_EQ(edit["from"], first["version"]);
  EXPECT_EQ(Set(edit["changed"]), std::set<std::string>{"demo::a::inner"});
  EXPECT_TRUE(edit["added"].empty());
  EXPECT_TRUE(edit["removed"].empty());
  // Its file was read and parsed again, and resolved again alone (its
  // items, signatures and imports are what they were). Only it was read:
  // the batch named it (lib.rs, written just before, would be read again
  // by a run that looked at every file, its stat too recent to trust).
  EXPECT_EQ(edit["files_parsed"], 1);
  EXPECT_EQ(edit["files_read"], 1);
  EXPECT_EQ(edit["files_relinked"], 1);

  // An editor's save through a temporary file and a rename.
  SaveLikeAnEditor("src/a.rs", "pub fn inner() -> u32 {\n    3\n}\n\npub fn other() {}\n");
  json saved = watch.Event();
  EXPECT_EQ(Set(saved["changed"]), std::set<std::string>{"demo::a::inner"});

  // A rename: one removed, one added.
  Write("src/a.rs", "pub fn inner() -> u32 {\n    3\n}\n\npub fn another() {}\n");
  json renamed = watch.Event();
  EXPECT_EQ(Set(renamed["removed"]), std::set<std::string>{"demo::a::other"});
  EXPECT_EQ(Set(renamed["added"]), std::set<std::string>{"demo::a::another"});

  // A new module in a new directory.
  Write("src/b/mod.rs", "pub fn fresh() {}\n");
  Write("src/lib.rs", "pub mod a;\npub mod b;\n\npub fn top() -> u32 {\n    a::inner()\n}\n");
  json added = watch.Event();
  std::set<std::string> added_paths = Set(added["added"]);
  // The two writes may come as one batch or two.
  if (!added_paths.count("demo::b::fresh")) added_paths = Set(watch.Event()["added"]);
  EXPECT_THAT(added_paths, Contains("demo::b::fresh"));

  // Deleting a file (and its declaration) closes its nodes.
  Write("src/lib.rs", "pub mod b;\n\npub fn top() -> u32 {\n    0\n}\n");
  fs::remove(ws_ / "src/a.rs");
  json removed = watch.Event();
  std::set<std::string> removed_paths = Set(removed["removed"]);
  if (!removed_paths.count("demo::a::inner")) removed_paths = Set(watch.Event()["removed"]);
  EXPECT_THAT(removed_paths, Contains("demo::a::inner"));

  // Broken Rust: what parses is indexed, and the warning naming the file
  // and line is a line of its own ({"warning": ...}) beside the events.
  Write("src/b/mod.rs", "pub fn fresh() {}\npub fn broken() { let x = ; }\n");
  json broken = watch.Event();
  EXPECT_THAT(Set(broken["added"]), Contains("demo::b::broken"));
  bool warned = false;
  for (const json& note : watch.notes)
    warned |= note.value("warning", "").find("src/b/mod.rs:2") != std::string::npos;
  EXPECT_TRUE(warned) << "no warning line for src/b/mod.rs";

  // Ignored paths make no version: target/, .gitignore'd files.
  Write(".gitignore", "generated/\n");
  Write("target/debug/build/x.rs", "pub fn nope() {}\n");
  Write("generated/y.rs", "pub fn nope() {}\n");
  EXPECT_FALSE(watch.Line(std::chrono::seconds(2)).has_value());

  EXPECT_EQ(watch.Stop(SIGTERM), 0);
  // Every version the watcher made is in the database, in order.
  RunResult log = RunFerrograph("log --json --db " + db_);
  ASSERT_EQ(log.code, 0) << log.err;
  json versions = json::parse(log.out)["versions"];
  ASSERT_GE(versions.size(), 6u);
  RunResult show = RunFerrograph("show demo::b::fresh --json --db " + db_);
  EXPECT_EQ(show.code, 0) << show.err;
  RunResult gone = RunFerrograph("show demo::a::inner --db " + db_);
  EXPECT_NE(gone.code, 0);
  RunResult then = RunFerrograph("show demo::a::inner --no-source --as-of 2 --db " + db_);
  EXPECT_EQ(then.code, 0) << then.err;
}

TEST_F(CliWatchTest, EventStormEndsInTheRightStateWithBoundedMemory) {
  // 10,000 files in 100 modules, all rewritten at once.
  constexpr int kModules = 100, kFiles = 100;
  auto write_all = [&](const std::string& fn) {
    for (int m = 0; m < kModules; ++m) {
      std::string decls;
      for (int f = 0; f < kFiles; ++f) {
        decls += "pub mod f" + std::to_string(f) + ";\n";
        Write("src/m" + std::to_string(m) + "/f" + std::to_string(f) + ".rs",
              "pub fn " + fn + "_" + std::to_string(m) + "_" + std::to_string(f) + "() {}\n");
      }
      Write("src/m" + std::to_string(m) + "/mod.rs", decls);
    }
  };
  std::string lib;
  for (int m = 0; m < kModules; ++m) lib += "pub mod m" + std::to_string(m) + ";\n";
  Write("src/lib.rs", lib);
  write_all("before");
  Child watch({"watch", ws_.string(), "--db", db_, "--json", "--no-search"});
  json first = watch.Event(std::chrono::seconds(600));
  ASSERT_EQ(first["added"].size() >= static_cast<size_t>(kModules * kFiles), true);

  write_all("after");
  // Events until the storm is absorbed: every `after_` function added.
  std::set<std::string> added, removed;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (added.size() < static_cast<size_t>(kModules * kFiles) &&
         std::chrono::steady_clock::now() < deadline) {
    json e = watch.Event(std::chrono::seconds(600));
    if (e.empty()) break;
    for (const auto& p : e["added"]) added.insert(p.get<std::string>());
    for (const auto& p : e["removed"]) removed.insert(p.get<std::string>());
  }
  long peak_kb = watch.PeakKb();
  EXPECT_EQ(watch.Stop(SIGINT), 0);
  EXPECT_EQ(added.size(), static_cast<size_t>(kModules * kFiles));
  EXPECT_EQ(removed.size(), static_cast<size_t>(kModules * kFiles));
  // The final state: only the new functions.
  RunResult stats = RunFerrograph("stats --json --db " + db_);
  ASSERT_EQ(stats.code, 0) << stats.err;
  EXPECT_EQ(json::parse(stats.out)["nodes_by_kind"]["function"], kModules * kFiles);
  RunResult after = RunFerrograph("show demo::m99::f99::after_99_99 --no-source --db " + db_);
  EXPECT_EQ(after.code, 0) << after.err;
  RunResult before = RunFerrograph("show demo::m0::f0::before_0_0 --no-source --db " + db_);
  EXPECT_NE(before.code, 0);
  // Memory stays bounded: the watcher holds at most 4096 paths per batch,
  // and the indexer streams files. 10,000 small files need far less than
  // this bound; an unbounded queue of events or paths would not.
  EXPECT_GT(peak_kb, 0);
  EXPECT_LT(peak_kb, 1024 * 1024) << "peak RSS " << peak_kb << " kB";
}

TEST_F(CliWatchTest, ARunThatFailsOnALockedDatabaseIsTriedAgain) {
  Write("src/lib.rs", "pub fn first() {}\n");
  const std::string err_path = (dir_ / "watch.err").string();
  Child watch({"watch", ws_.string(), "--db", db_, "--json", "--no-search"}, err_path);
  json first = watch.Event();
  ASSERT_THAT(Set(first["added"]), Contains("demo::first"));

  // Another writer holds the write lock beyond watch's busy timeout (10 s):
  // the run of the next edit fails, and watch goes on.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Write("src/lib.rs", "pub fn first() {}\npub fn second() {}\n");
  std::string err;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (err.find("trying again") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    err = ss.str();
  }
  EXPECT_THAT(err, HasSubstr("database is locked"));
  EXPECT_THAT(err, HasSubstr("trying again in 1 s"));
  // Once the lock is gone, the retry (no further change needed) takes the edit.
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  json retried = watch.Event(std::chrono::seconds(120));
  EXPECT_THAT(Set(retried["added"]), Contains("demo::second"));
  // The failed run was an event too, for consumers of --json.
  ASSERT_FALSE(watch.notes.empty());
  EXPECT_THAT(watch.notes[0].value("error", ""), HasSubstr("database is locked"));
  EXPECT_EQ(watch.notes[0].value("retry_in_s", 0), 1);
  EXPECT_EQ(watch.Stop(SIGINT), 0);
}

TEST_F(CliWatchTest, HistoryCommandsEndToEnd) {
  Write("src/lib.rs", "pub fn inner() -> u32 {\n    1\n}\n\npub fn other() {}\n");
  ASSERT_EQ(RunFerrograph("index " + ws_.string() + " --quiet --db " + db_).code, 0);
  Write("src/lib.rs", "pub fn inner() -> u32 {\n    2\n}\n\npub fn renamed() {}\n");
  ASSERT_EQ(RunFerrograph("index " + ws_.string() + " --quiet --db " + db_).code, 0);

  RunResult history = RunFerrograph("history demo::inner --json --db " + db_);
  ASSERT_EQ(history.code, 0) << history.err;
  json h = json::parse(history.out);
  ASSERT_EQ(h["nodes"].size(), 1u);
  json states = h["nodes"][0]["states"];
  ASSERT_EQ(states.size(), 2u);
  EXPECT_THAT(states[0]["source"].get<std::string>(), HasSubstr("1"));
  EXPECT_THAT(states[1]["source"].get<std::string>(), HasSubstr("2"));
  EXPECT_TRUE(states[1]["to"].is_null());
  RunResult text = RunFerrograph("history inner --source --db " + db_);
  EXPECT_THAT(text.out, HasSubstr("from #1"));
  EXPECT_THAT(text.out, HasSubstr("current"));

  RunResult diff = RunFerrograph("diff 1 2 --json --db " + db_);
  ASSERT_EQ(diff.code, 0) << diff.err;
  json d = json::parse(diff.out);
  EXPECT_EQ(d["changed"].size(), 1u);
  EXPECT_EQ(d["changed"][0]["path"], "demo::inner");
  EXPECT_EQ(d["added"][0]["path"], "demo::renamed");
  EXPECT_EQ(d["removed"][0]["path"], "demo::other");

  // As of version 1: the old name, in every query and in search.
  EXPECT_EQ(RunFerrograph("show demo::other --no-source --as-of 1 --db " + db_).code, 0);
  EXPECT_NE(RunFerrograph("show demo::other --no-source --db " + db_).code, 0);
  RunResult search = RunFerrograph("search other --mode lexical --json --as-of 1 --db " + db_);
  ASSERT_EQ(search.code, 0) << search.err;
  EXPECT_EQ(json::parse(search.out)["results"][0]["path"], "demo::other");
  RunResult stats = RunFerrograph("stats --json --as-of 1 --db " + db_);
  ASSERT_EQ(stats.code, 0) << stats.err;
  EXPECT_EQ(json::parse(stats.out)["latest"]["ordinal"], 1);
  RunResult bad = RunFerrograph("stats --as-of yesterday --db " + db_);
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("names no version"));

  // gc --keep 1: version 1 goes, the current answers stay.
  RunResult gc = RunFerrograph("gc --keep 1 --json --db " + db_);
  ASSERT_EQ(gc.code, 0) << gc.err;
  EXPECT_EQ(json::parse(gc.out)["versions_removed"], 1);
  RunResult dropped = RunFerrograph("show demo::inner --as-of 1 --db " + db_);
  EXPECT_EQ(dropped.code, 1);
  EXPECT_THAT(dropped.err, HasSubstr("dropped"));
  EXPECT_EQ(RunFerrograph("show demo::renamed --no-source --db " + db_).code, 0);
  RunResult log = RunFerrograph("log --json --db " + db_);
  EXPECT_EQ(json::parse(log.out)["versions"].size(), 1u);
}

TEST_F(CliWatchTest, BadArguments) {
  RunResult missing = RunFerrograph("watch " + (dir_ / "nope").string() + " --db " + db_);
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not a directory to watch"));
  RunResult debounce = RunFerrograph("watch " + ws_.string() + " --debounce x --db " + db_);
  EXPECT_EQ(debounce.code, 2);
  EXPECT_THAT(debounce.err, HasSubstr("--debounce"));
}

}  // namespace
}  // namespace ferrograph_test
