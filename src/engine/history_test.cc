// Tests of item-level incremental updates and of history: each edit of a
// real (small) crate is indexed through the Engine, and the delta, the
// versions, as-of answers, node history, diffs and `gc --keep` are checked.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "ferrograph/engine.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kLib = R"(pub mod shapes;

/// Adds two numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

pub fn twice(x: i32) -> i32 {
    add(x, x)
}

pub fn unused_helper() -> u8 {
    7
}
)";

constexpr const char* kShapes = R"(pub struct Circle {
    pub r: f64,
}

impl Circle {
    pub fn area(&self) -> f64 {
        3.14 * self.r * self.r
    }
}

pub fn unit() -> Circle {
    Circle { r: 1.0 }
}
)";

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("history_test_" + std::to_string(getpid()) + "_" +
            std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src");
    Write("Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n");
    Write("src/lib.rs", kLib);
    Write("src/shapes.rs", kShapes);
    Engine::Options o;
    o.db_path = (dir_ / "graph.db").string();
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    IndexReport first = Index();
    ASSERT_TRUE(first.version.has_value());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel, std::ios::binary | std::ios::trunc) << text;
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(dir_ / rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Replace(const std::string& rel, const std::string& from, const std::string& to) {
    std::string text = Read(rel);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    Write(rel, text);
  }

  IndexReport Index(std::optional<std::vector<std::string>> changed_paths = std::nullopt) {
    IndexOptions options;
    options.jobs = 2;
    options.keep_parses = true;  // as `watch` indexes: parses kept between runs
    options.changed_paths = std::move(changed_paths);
    auto r = engine_->Index(dir_.string(), options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : IndexReport();
  }

  VersionInfo Latest() {
    auto v = engine_->ResolveVersion("latest");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : VersionInfo();
  }

  // The diff of the last index run, by path.
  GraphDiff LastDiff(bool with_edges = true) {
    auto versions = engine_->Versions();
    EXPECT_TRUE(versions.ok() && versions->size() >= 2);
    const VersionInfo& to = versions->back();
    const VersionInfo& from = (*versions)[versions->size() - 2];
    auto d = engine_->Diff(from, to, with_edges);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : GraphDiff();
  }

  static std::vector<std::string> Paths(const std::vector<Node>& nodes) {
    std::vector<std::string> out;
    for (const Node& n : nodes) out.push_back(n.path);
    return out;
  }
  static std::vector<std::string> Paths(const std::vector<GraphDiff::Change>& changes) {
    std::vector<std::string> out;
    for (const auto& c : changes) out.push_back(c.after.path);
    return out;
  }

  // path -> (id, content hash) of every current node.
  std::map<std::string, std::pair<NodeId, ContentHash>> Snapshot() {
    std::map<std::string, std::pair<NodeId, ContentHash>> out;
    std::ostringstream sink;
    EXPECT_TRUE(engine_->Export(sink).ok());
    std::istringstream lines(sink.str());
    std::string line;
    // Export prints paths and ids; Find gives the node for each.
    while (std::getline(lines, line)) {
      if (line.find("\"type\":\"node\"") == std::string::npos) continue;
      size_t p = line.find("\"id\":\"") + 6;
      std::string id = line.substr(p, 32);
      auto found = engine_->Find(id, 1);
      EXPECT_TRUE(found.ok() && found->size() == 1);
      if (found.ok() && found->size() == 1)
        out[std::string(KindName((*found)[0].kind)) + " " + (*found)[0].path] = {
            (*found)[0].id, (*found)[0].content_hash};
    }
    return out;
  }

  // The lines `export` prints (their order follows each database's history).
  static std::multiset<std::string> ExportLines(Engine& engine) {
    std::ostringstream sink;
    EXPECT_TRUE(engine.Export(sink).ok());
    std::multiset<std::string> out;
    std::istringstream in(sink.str());
    std::string line;
    while (std::getline(in, line)) out.insert(line);
    return out;
  }
  // The same of the tree as it is now, indexed from scratch into a new
  // database without kept state.
  std::multiset<std::string> FreshExportLines() {
    Engine::Options o;
    o.db_path = (dir_ / "fresh.db").string();
    fs::remove(o.db_path);
    auto fresh = Engine::Open(o);
    EXPECT_TRUE(fresh.ok()) << fresh.status().ToString();
    if (!fresh.ok()) return {};
    IndexOptions options;
    options.jobs = 2;
    EXPECT_TRUE((*fresh)->Index(dir_.string(), options).ok());
    return ExportLines(**fresh);
  }

  Node One(const std::string& path) {
    auto found = engine_->Find(path, 10);
    EXPECT_TRUE(found.ok());
    EXPECT_EQ(found.ok() ? found->size() : 0u, 1u) << path;
    return found.ok() && !found->empty() ? (*found)[0] : Node();
  }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(HistoryTest, EditingOneBodyChangesExactlyThatNodeAndItsCalls) {
  // Same line count: nothing else even moves.
  Replace("src/lib.rs", "    add(x, x)\n", "    add(x, x) + unused_helper() as i32\n");
  IndexReport r = Index();
  ASSERT_TRUE(r.version.has_value());
  EXPECT_EQ(r.delta.nodes_added, 0);
  EXPECT_EQ(r.delta.nodes_removed, 0);
  EXPECT_EQ(r.delta.nodes_changed, 1);
  EXPECT_EQ(r.delta.edges_added, 1);  // twice -> unused_helper
  EXPECT_EQ(r.delta.edges_removed, 0);
  GraphDiff d = LastDiff();
  EXPECT_THAT(Paths(d.changed), ElementsAre("demo::twice"));
  EXPECT_THAT(d.added, IsEmpty());
  EXPECT_THAT(d.removed, IsEmpty());
  ASSERT_EQ(d.edges_added.size(), 1u);
  EXPECT_EQ(d.edges_added[0].kind, EdgeKind::kCalls);
  EXPECT_EQ(d.edges_added[0].src, One("demo::twice").id);
  EXPECT_EQ(d.edges_added[0].dst, One("demo::unused_helper").id);
  EXPECT_THAT(d.edges_removed, IsEmpty());
}

TEST_F(HistoryTest, AddingLinesMovesWhatFollowsWithoutChangingIt) {
  auto before = Snapshot();
  Replace("src/lib.rs", "    a + b\n", "    let sum = a + b;\n    sum\n");
  IndexReport r = Index();
  EXPECT_EQ(r.delta.nodes_changed, 1);
  EXPECT_EQ(r.delta.nodes_added, 0);
  EXPECT_EQ(r.delta.nodes_removed, 0);
  EXPECT_GT(r.delta.nodes_moved, 0);  // twice, unused_helper: one line down
  EXPECT_EQ(r.delta.edges_added, 0);
  EXPECT_EQ(r.delta.edges_removed, 0);
  EXPECT_EQ(r.delta.edges_moved, 1);  // twice -> add, now a line lower
  GraphDiff d = LastDiff();
  EXPECT_THAT(Paths(d.changed), ElementsAre("demo::add"));
  EXPECT_THAT(d.edges_added, IsEmpty());
  EXPECT_THAT(d.edges_removed, IsEmpty());
  EXPECT_EQ(d.edges_moved, 1);
  auto after = Snapshot();
  for (const auto& [key, id_hash] : before) {
    ASSERT_TRUE(after.count(key)) << key;
    EXPECT_EQ(after[key].first, id_hash.first) << key;
    if (key != "function demo::add") {
      EXPECT_EQ(after[key].second, id_hash.second) << key;
    }
  }
}

// Lines added above items move them without changing them: their rows stay
// and one span overlay row per file says where they are now (span_overlay.h),
// so every read, as of every version, gives the lines of that version.
TEST_F(HistoryTest, MovedItemsKeepTheirRowsAndEachVersionItsLines) {
  VersionInfo v1 = Latest();
  const std::multiset<std::string> export_v1 = ExportLines(*engine_);
  const Node area_v1 = One("demo::shapes::Circle::area");
  const Node twice_v1 = One("demo::twice");
  auto area_details_v1 = engine_->Describe(area_v1.id);
  ASSERT_TRUE(area_details_v1.ok());
  auto call_line = [&](const Node& from) -> uint32_t {
    auto d = engine_->Describe(from.id);
    EXPECT_TRUE(d.ok());
    if (d.ok())
      for (const auto& l : d->out_edges)
        if (l.edge.kind == EdgeKind::kCalls) return l.edge.line;
    return 0;
  };
  const uint32_t call_v1 = call_line(twice_v1);
  ASSERT_GT(call_v1, 0u);

  const std::string added = "// one\n// two\n// three\n";
  Replace("src/shapes.rs", "pub struct Circle {", added + "pub struct Circle {");
  Replace("src/lib.rs", "/// Adds two numbers.", "// a\n// b\n/// Adds two numbers.");
  IndexReport r = Index();
  ASSERT_TRUE(r.version.has_value());
  EXPECT_EQ(r.delta.nodes_added + r.delta.nodes_removed + r.delta.nodes_changed, 0);
  EXPECT_GT(r.delta.nodes_moved, 0);
  EXPECT_GT(r.delta.edges_moved, 0);
  EXPECT_EQ(r.delta.edges_added + r.delta.edges_removed, 0);
  // Per file: its file row closed and opened, one overlay row. Not a row per
  // moved item or call site.
  EXPECT_LE(r.delta.rows_written, 6);
  EXPECT_GE(r.delta.rows_written, 6);
  VersionInfo v2 = Latest();

  // Now: the new places, as a fresh index of the tree has them.
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());
  Node area = One("demo::shapes::Circle::area");
  EXPECT_EQ(area.span.start_line, area_v1.span.start_line + 3);
  EXPECT_EQ(area.span.start_byte, area_v1.span.start_byte + added.size());
  auto area_details = engine_->Describe(area.id);
  ASSERT_TRUE(area_details.ok());
  EXPECT_EQ(area_details->source, area_details_v1->source);  // bytes moved with it
  EXPECT_EQ(call_line(One("demo::twice")), call_v1 + 2);
  GraphDiff d = LastDiff();
  EXPECT_THAT(d.changed, IsEmpty());
  EXPECT_THAT(d.edges_added, IsEmpty());
  EXPECT_THAT(d.edges_removed, IsEmpty());
  EXPECT_GT(d.edges_moved, 0);
  bool area_moved = false;
  for (const auto& c : d.moved)
    if (c.after.path == "demo::shapes::Circle::area") {
      area_moved = true;
      EXPECT_EQ(c.before.span.start_line, area_v1.span.start_line);
      EXPECT_EQ(c.after.span.start_line, area_v1.span.start_line + 3);
    }
  EXPECT_TRUE(area_moved);

  // As of v1 (another Engine on the database, pinned): the old places, in
  // every read.
  auto open_pinned = [&](const VersionInfo& v) {
    Engine::Options o;
    o.db_path = (dir_ / "graph.db").string();
    auto e = Engine::Open(o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_TRUE((*e)->PinVersion(v.uuid.str()).ok());
    return std::move(e).value();
  };
  {
    std::unique_ptr<Engine> then = open_pinned(v1);
    std::swap(then, engine_);  // One() and call_line() read engine_
    EXPECT_EQ(ExportLines(*engine_), export_v1);
    EXPECT_EQ(One("demo::shapes::Circle::area").span.start_line, area_v1.span.start_line);
    EXPECT_EQ(call_line(One("demo::twice")), call_v1);
    auto d1 = engine_->Describe(area_v1.id);
    ASSERT_TRUE(d1.ok());
    EXPECT_EQ(d1->source, area_details_v1->source);
    std::swap(then, engine_);
  }

  // Edited again below: the overlay follows, one more row per file.
  Replace("src/shapes.rs", "// two\n", "// two\n// two and a half\n");
  r = Index();
  ASSERT_TRUE(r.version.has_value());
  EXPECT_LE(r.delta.rows_written,
            4);  // shapes.rs: file row and overlay row, each closed and opened
  EXPECT_EQ(One("demo::shapes::Circle::area").span.start_line, area_v1.span.start_line + 4);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());

  // Back where the rows say: no overlay is needed any more.
  Write("src/shapes.rs", kShapes);
  Write("src/lib.rs", kLib);
  ASSERT_TRUE(Index().version.has_value());
  EXPECT_EQ(ExportLines(*engine_), export_v1);
  auto back = engine_->Diff(v1, Latest(), /*with_edges=*/true);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_THAT(back->moved, IsEmpty());
  EXPECT_EQ(back->edges_moved, 0);
  // v2 still answers with its places, and after dropping the versions
  // before the last two, the kept ones do too.
  {
    std::unique_ptr<Engine> then = open_pinned(v2);
    std::swap(then, engine_);
    EXPECT_EQ(One("demo::shapes::Circle::area").span.start_line, area_v1.span.start_line + 3);
    std::swap(then, engine_);
  }
  auto gc = engine_->DropOldVersions(2);
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(ExportLines(*engine_), export_v1);
}

TEST_F(HistoryTest, RenameIsOneRemovedAndOneAdded) {
  Replace("src/lib.rs", "pub fn unused_helper()", "pub fn spare_helper()");
  IndexReport r = Index();
  GraphDiff d = LastDiff();
  EXPECT_THAT(Paths(d.removed), ElementsAre("demo::unused_helper"));
  EXPECT_THAT(Paths(d.added), ElementsAre("demo::spare_helper"));
  EXPECT_THAT(d.changed, IsEmpty());
  EXPECT_EQ(r.delta.nodes_added, 1);
  EXPECT_EQ(r.delta.nodes_removed, 1);
  EXPECT_EQ(r.delta.nodes_changed, 0);
}

TEST_F(HistoryTest, ReformattingChangesNothing) {
  auto before = Snapshot();
  Write(
      "src/lib.rs",
      "pub   mod shapes ;\n/// Adds two numbers.\npub fn add( a : i32 , b : i32 ) -> i32 { a+b }\n"
      "pub fn twice(x: i32) -> i32 {\n\n    add(x,x) // twice\n}\n"
      "pub fn unused_helper() -> u8 { /* seven */ 7 }\n");
  IndexReport r = Index();
  EXPECT_EQ(r.delta.nodes_added, 0);
  EXPECT_EQ(r.delta.nodes_removed, 0);
  EXPECT_EQ(r.delta.nodes_changed, 0);
  EXPECT_EQ(r.delta.edges_added, 0);
  EXPECT_EQ(r.delta.edges_removed, 0);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(HistoryTest, ReorderingItemsKeepsIdsAndHashes) {
  auto before = Snapshot();
  Write("src/shapes.rs", std::string(R"(pub fn unit() -> Circle {
    Circle { r: 1.0 }
}

impl Circle {
    pub fn area(&self) -> f64 {
        3.14 * self.r * self.r
    }
}

pub struct Circle {
    pub r: f64,
}
)"));
  IndexReport r = Index();
  EXPECT_EQ(r.delta.nodes_added, 0);
  EXPECT_EQ(r.delta.nodes_removed, 0);
  EXPECT_EQ(r.delta.nodes_changed, 0);
  EXPECT_GT(r.delta.nodes_moved, 0);
  EXPECT_EQ(r.delta.edges_added, 0);
  EXPECT_EQ(r.delta.edges_removed, 0);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(HistoryTest, DeletingAFileClosesItsNodesAndEdgesButHistoryKeepsThem) {
  VersionInfo v1 = Latest();
  Replace("src/lib.rs", "pub mod shapes;\n", "");
  fs::remove(dir_ / "src/shapes.rs");
  IndexReport r = Index();
  ASSERT_TRUE(r.version.has_value());
  GraphDiff d = LastDiff();
  EXPECT_THAT(Paths(d.removed),
              ::testing::IsSupersetOf({"demo::shapes", "demo::shapes::Circle",
                                       "demo::shapes::Circle::area", "demo::shapes::unit"}));
  EXPECT_THAT(d.added, IsEmpty());
  auto gone = engine_->Find("demo::shapes::Circle::area", 10);
  ASSERT_TRUE(gone.ok());
  EXPECT_THAT(*gone, IsEmpty());
  // Its edges are gone from the current graph...
  auto stats = engine_->Stats();
  ASSERT_TRUE(stats.ok());
  std::ostringstream now;
  ASSERT_TRUE(engine_->Export(now).ok());
  EXPECT_THAT(now.str(), ::testing::Not(HasSubstr("demo::shapes::Circle")));
  // ...and as of v1 everything is there again.
  ASSERT_TRUE(engine_->PinVersion(v1.uuid.str()).ok());
  Node area = One("demo::shapes::Circle::area");
  EXPECT_EQ(area.file, "src/shapes.rs");
  auto impls = engine_->Find("demo::shapes::Circle", 10);
  ASSERT_TRUE(impls.ok());
  auto details = engine_->Describe(One("demo::shapes::Circle").id);
  ASSERT_TRUE(details.ok()) << details.status().ToString();
  bool impl_for = false;
  for (const auto& l : details->in_edges) impl_for |= l.edge.kind == EdgeKind::kImplFor;
  EXPECT_TRUE(impl_for);
  std::ostringstream then;
  ASSERT_TRUE(engine_->Export(then).ok());
  EXPECT_THAT(then.str(), HasSubstr("demo::shapes::Circle::area"));
}

TEST_F(HistoryTest, AsOfAnswersEveryReadAsThen) {
  VersionInfo v1 = Latest();
  Node add_v1 = One("demo::add");
  Replace("src/lib.rs", "    a + b\n", "    a.wrapping_add(b)\n");
  Replace("src/lib.rs", "pub fn unused_helper()", "pub fn spare_helper()");
  ASSERT_TRUE(Index().version.has_value());
  VersionInfo v2 = Latest();
  ASSERT_GT(v2.ordinal, v1.ordinal);

  // Current: the new state.
  EXPECT_NE(One("demo::add").content_hash, add_v1.content_hash);
  auto src_now = engine_->Describe(One("demo::add").id);
  ASSERT_TRUE(src_now.ok());
  EXPECT_THAT(src_now->source.value_or(""), HasSubstr("wrapping_add"));

  // As of v1 by UUID, by number and by time: the old state.
  for (const std::string& spec :
       {v1.uuid.str(), std::to_string(v1.ordinal), "#" + std::to_string(v1.ordinal),
        "@" + std::to_string(v1.time_ms / 1000 + 1)}) {
    auto pinned = engine_->PinVersion(spec);
    ASSERT_TRUE(pinned.ok()) << spec << ": " << pinned.status().ToString();
    if (spec[0] == '@' && pinned->ordinal != v1.ordinal) continue;  // same second as v2
    EXPECT_EQ(pinned->ordinal, v1.ordinal) << spec;
    Node add = One("demo::add");
    EXPECT_EQ(add.content_hash, add_v1.content_hash) << spec;
    auto d = engine_->Describe(add.id);
    ASSERT_TRUE(d.ok());
    EXPECT_THAT(d->source.value_or(""), HasSubstr("a + b"));
    auto old_name = engine_->Find("demo::unused_helper", 10);
    ASSERT_TRUE(old_name.ok());
    EXPECT_EQ(old_name->size(), 1u);
    auto new_name = engine_->Find("demo::spare_helper", 10);
    ASSERT_TRUE(new_name.ok());
    EXPECT_THAT(*new_name, IsEmpty());
    auto stats = engine_->Stats();
    ASSERT_TRUE(stats.ok());
    ASSERT_TRUE(stats->latest.has_value());
    EXPECT_EQ(stats->latest->ordinal, v1.ordinal);
    // Search as of v1 finds the old name, lexically and by vector.
    for (SearchMode mode : {SearchMode::kLexical, SearchMode::kVector, SearchMode::kHybrid}) {
      SearchRequest req;
      req.query = "unused helper";
      req.k = 3;
      req.mode = mode;
      auto res = engine_->Search(req);
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      std::set<std::string> paths;
      for (const SearchHit& h : res->results) paths.insert(h.node.path);
      EXPECT_TRUE(paths.count("demo::unused_helper")) << static_cast<int>(mode);
      EXPECT_FALSE(paths.count("demo::spare_helper")) << static_cast<int>(mode);
    }
  }
  // Calls as of v1 and now.
  ASSERT_TRUE(engine_->PinVersion("latest").ok());
  SearchRequest req;
  req.query = "spare helper";
  req.mode = SearchMode::kLexical;
  auto res = engine_->Search(req);
  ASSERT_TRUE(res.ok());
  ASSERT_FALSE(res->results.empty());
  EXPECT_EQ(res->results[0].node.path, "demo::spare_helper");
}

TEST_F(HistoryTest, HistoryListsEveryStateWithItsSource) {
  Replace("src/lib.rs", "    a + b\n", "    a.wrapping_add(b)\n");
  ASSERT_TRUE(Index().version.has_value());
  Replace("src/lib.rs", "    a.wrapping_add(b)\n", "    a.saturating_add(b)\n");
  ASSERT_TRUE(Index().version.has_value());
  auto revs = engine_->History("demo::add", /*with_source=*/true);
  ASSERT_TRUE(revs.ok()) << revs.status().ToString();
  ASSERT_EQ(revs->size(), 3u);
  EXPECT_THAT(revs->at(0).source.value_or(""), HasSubstr("a + b"));
  EXPECT_THAT(revs->at(1).source.value_or(""), HasSubstr("wrapping_add"));
  EXPECT_THAT(revs->at(2).source.value_or(""), HasSubstr("saturating_add"));
  EXPECT_EQ(revs->at(0).valid_to, revs->at(1).valid_from);
  EXPECT_EQ(revs->at(1).valid_to, revs->at(2).valid_from);
  EXPECT_FALSE(revs->at(2).valid_to.has_value());
  std::set<ContentHash> hashes;
  for (const NodeRevision& r : *revs) hashes.insert(r.node.content_hash);
  EXPECT_EQ(hashes.size(), 3u);
  // A removed node keeps its history.
  Replace("src/lib.rs", "pub fn unused_helper() -> u8 {\n    7\n}\n", "");
  ASSERT_TRUE(Index().version.has_value());
  auto gone = engine_->History("unused_helper", false);
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_TRUE(gone->at(0).valid_to.has_value());
}

// An edit above an item moves it without a new row (span overlays): each
// state's lines and source are where the item was in that state, not where
// the row was first written.
TEST_F(HistoryTest, HistoryOfAMovedItemShowsWhereItWasAndItsOwnSource) {
  const Node area_v1 = One("demo::shapes::Circle::area");
  const std::string added = "// one\n// two\n// three\n";
  Replace("src/shapes.rs", "pub struct Circle {", added + "pub struct Circle {");
  ASSERT_TRUE(Index().version.has_value());  // area moved: same row
  auto moved = engine_->History("demo::shapes::Circle::area", /*with_source=*/true);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ(moved->at(0).node.span.start_line, area_v1.span.start_line + 3);
  EXPECT_EQ(moved->at(0).node.span, One("demo::shapes::Circle::area").span);
  EXPECT_THAT(moved->at(0).source.value_or(""),
              ::testing::StartsWith("pub fn area(&self) -> f64 {"));

  // Moved again, then changed: the closed row shows its last place.
  Replace("src/shapes.rs", "// one\n", "// one\n// one and a half\n");
  ASSERT_TRUE(Index().version.has_value());
  Replace("src/shapes.rs", "3.14 * self.r", "std::f64::consts::PI * self.r");
  ASSERT_TRUE(Index().version.has_value());
  auto revs = engine_->History("demo::shapes::Circle::area", /*with_source=*/true);
  ASSERT_TRUE(revs.ok()) << revs.status().ToString();
  ASSERT_EQ(revs->size(), 2u);
  EXPECT_EQ(revs->at(0).node.span.start_line, area_v1.span.start_line + 4);
  EXPECT_EQ(revs->at(0).node.span.start_line, revs->at(1).node.span.start_line);
  EXPECT_THAT(revs->at(0).source.value_or(""), ::testing::StartsWith("pub fn area("));
  EXPECT_THAT(revs->at(0).source.value_or(""), HasSubstr("3.14 * self.r"));
  EXPECT_THAT(revs->at(1).source.value_or(""), ::testing::StartsWith("pub fn area("));
  EXPECT_THAT(revs->at(1).source.value_or(""), HasSubstr("consts::PI"));
}

TEST_F(HistoryTest, DiffBetweenDistantVersionsAndBack) {
  VersionInfo v1 = Latest();
  Replace("src/lib.rs", "pub fn unused_helper()", "pub fn spare_helper()");
  ASSERT_TRUE(Index().version.has_value());
  Replace("src/lib.rs", "    a + b\n", "    a.wrapping_add(b)\n");
  ASSERT_TRUE(Index().version.has_value());
  VersionInfo v3 = Latest();
  auto d = engine_->Diff(v1, v3, true);
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(Paths(d->added), ElementsAre("demo::spare_helper"));
  EXPECT_THAT(Paths(d->removed), ElementsAre("demo::unused_helper"));
  EXPECT_THAT(Paths(d->changed), ElementsAre("demo::add"));
  auto back = engine_->Diff(v3, v1, true);
  ASSERT_TRUE(back.ok());
  EXPECT_THAT(Paths(back->added), ElementsAre("demo::unused_helper"));
  EXPECT_THAT(Paths(back->removed), ElementsAre("demo::spare_helper"));
}

TEST_F(HistoryTest, GcKeepDropsOldVersionsWithoutChangingNewerAnswers) {
  for (int i = 0; i < 4; ++i) {
    Replace("src/lib.rs", "    " + std::to_string(i + 7) + "\n",
            "    " + std::to_string(i + 8) + "\n");
    ASSERT_TRUE(Index().version.has_value());
  }
  auto versions = engine_->Versions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 5u);
  const VersionInfo kept_oldest = (*versions)[3];
  auto export_as_of = [&](const std::string& spec) {
    EXPECT_TRUE(engine_->PinVersion(spec).ok());
    std::ostringstream out;
    EXPECT_TRUE(engine_->Export(out).ok());
    auto s = engine_->Stats();
    EXPECT_TRUE(s.ok());
    return out.str() + std::to_string(s.ok() ? s->nodes + s->edges : -1);
  };
  std::string at_3 = export_as_of(std::to_string(kept_oldest.ordinal));
  std::string at_4 = export_as_of("latest");
  auto history_before = engine_->History("demo::unused_helper", true);
  ASSERT_TRUE(history_before.ok());
  ASSERT_EQ(history_before->size(), 5u);

  auto r = engine_->DropOldVersions(2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->versions_removed, 3);
  EXPECT_GT(r->node_rows_removed, 0);
  versions = engine_->Versions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ(versions->front().ordinal, kept_oldest.ordinal);

  EXPECT_EQ(export_as_of(std::to_string(kept_oldest.ordinal)), at_3);
  EXPECT_EQ(export_as_of("latest"), at_4);
  auto dropped = engine_->PinVersion("1");
  ASSERT_FALSE(dropped.ok());
  EXPECT_THAT(dropped.status().message(), HasSubstr("dropped by `ferrograph gc --keep`"));
  auto history_after = engine_->History("demo::unused_helper", true);
  ASSERT_TRUE(history_after.ok());
  ASSERT_EQ(history_after->size(), 2u);
  EXPECT_THAT(history_after->at(0).source.value_or(""), HasSubstr("10"));
  EXPECT_THAT(history_after->at(1).source.value_or(""), HasSubstr("11"));
  // A state older than the kept versions that is still valid keeps its
  // source (the file's rows it started with are gone).
  auto add_history = engine_->History("demo::add", true);
  ASSERT_TRUE(add_history.ok());
  ASSERT_EQ(add_history->size(), 1u);
  EXPECT_THAT(add_history->at(0).source.value_or("(none)"), HasSubstr("a + b"));
  // Lexical search works again over the kept rows.
  SearchRequest req;
  req.query = "unused helper";
  req.mode = SearchMode::kLexical;
  auto res = engine_->Search(req);
  ASSERT_TRUE(res.ok());
  ASSERT_FALSE(res->results.empty());
  EXPECT_EQ(res->results[0].node.path, "demo::unused_helper");
  // Another edit after gc indexes fine.
  Replace("src/lib.rs", "    11\n", "    12\n");
  ASSERT_TRUE(Index().version.has_value());
}

// Readers query in a loop while a writer commits version after version:
// no reader ever fails, and every answer is that of some committed version
// (pinned reads agree with each other within that version).
TEST_F(HistoryTest, ReadersDuringContinuousUpdatesSeeCommittedVersions) {
  auto write_state = [&](int k) {
    std::string text = "pub const COUNT: u32 = " + std::to_string(k) + ";\n";
    for (int i = 1; i <= k; ++i)
      text +=
          "pub fn step_" + std::to_string(i) + "() -> u32 {\n    " + std::to_string(i) + "\n}\n";
    Write("src/lib.rs", text);
  };
  write_state(1);
  ASSERT_TRUE(Index().version.has_value());
  constexpr int kVersions = 25;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::mutex errors_mu;
  std::vector<std::string> errors;
  auto reader = [&](int which) {
    auto fail = [&](const std::string& what) {
      std::lock_guard<std::mutex> lock(errors_mu);
      errors.push_back(std::to_string(which) + ": " + what);
    };
    Engine::Options o;
    o.db_path = (dir_ / "graph.db").string();
    o.read_only = true;
    auto opened = Engine::Open(o);
    if (!opened.ok()) return fail(opened.status().ToString());
    std::unique_ptr<Engine> r = std::move(opened).value();

    while (!done.load()) {
      // Pinned to the latest committed version, every read agrees.
      auto pinned = r->PinVersion("latest");
      if (!pinned.ok()) return fail(pinned.status().ToString());
      auto count = r->Find("demo::COUNT", 10);
      if (!count.ok()) return fail(count.status().ToString());
      if (count->size() != 1) return fail("COUNT nodes: " + std::to_string(count->size()));
      const std::string& sig = (*count)[0].signature;
      int k = std::stoi(sig.substr(sig.rfind('=') + 1));
      auto stats = r->Stats();
      if (!stats.ok()) return fail(stats.status().ToString());
      int64_t functions =
          stats->nodes_by_kind.count("function") ? stats->nodes_by_kind.at("function") : 0;
      if (functions != k)
        return fail("as of #" + std::to_string(pinned->ordinal) + ": COUNT " + std::to_string(k) +
                    " but " + std::to_string(functions) + " functions");
      auto last = r->Find("demo::step_" + std::to_string(k), 2);
      auto beyond = r->Find("demo::step_" + std::to_string(k + 1), 2);
      if (!last.ok() || !beyond.ok()) return fail("find failed");
      if (last->size() != 1 || !beyond->empty())
        return fail("as of #" + std::to_string(pinned->ordinal) + ": step_" + std::to_string(k) +
                    " x" + std::to_string(last->size()) + ", step_" + std::to_string(k + 1) + " x" +
                    std::to_string(beyond->size()));
      ++reads;
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  for (int k = 2; k <= kVersions; ++k) {
    write_state(k);
    IndexReport rep = Index();
    EXPECT_TRUE(rep.version.has_value()) << k;
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_GT(reads.load(), 0);
}

TEST_F(HistoryTest, KeptParsesGiveTheSameGraphAsParsingAgain) {
  // Edits indexed with parses kept between runs...
  Replace("src/lib.rs", "    a + b\n", "    a.wrapping_add(b)\n");
  ASSERT_TRUE(Index().version.has_value());
  Replace("src/shapes.rs", "    Circle { r: 1.0 }\n", "    Circle { r: 2.0 }\n");
  ASSERT_TRUE(Index().version.has_value());
  // ...and the same tree indexed once from scratch without them.
  std::multiset<std::string> kept = ExportLines(*engine_);
  EXPECT_EQ(kept, FreshExportLines());
  EXPECT_GT(kept.size(), 20u);
}

TEST_F(HistoryTest, EditsThatKeepAFilesInterfaceRelinkThatFileAlone) {
  // A body edit with a new call (into another file) and a new external.
  Replace("src/shapes.rs", "    Circle { r: 1.0 }\n",
          "    let _ = crate::add(1, 2);\n    std::mem::drop(0);\n    Circle { r: 1.0 }\n");
  IndexReport body = Index();
  ASSERT_TRUE(body.version.has_value());
  EXPECT_EQ(body.crates_relinked_by_file, 1);
  EXPECT_EQ(body.files_relinked, 1);
  EXPECT_EQ(body.delta.nodes_changed, 1);
  // The new edges are there.
  std::ostringstream graph;
  ASSERT_TRUE(engine_->Export(graph).ok());
  EXPECT_THAT(graph.str(),
              HasSubstr(R"("kind":"CALLS","src":"demo::shapes::unit","dst":"demo::add")"));
  EXPECT_THAT(graph.str(),
              HasSubstr(R"("kind":"CALLS","src":"demo::shapes::unit","dst":"std::mem::drop")"));
  // A signature edit changes what other files see: the crate is linked whole.
  Replace("src/lib.rs", "pub fn unused_helper() -> u8 {", "pub fn unused_helper() -> u16 {");
  IndexReport signature = Index();
  ASSERT_TRUE(signature.version.has_value());
  EXPECT_EQ(signature.files_relinked, 0);
  // Docs and lines only, then a body that drops the external again.
  Replace("src/lib.rs", "/// Adds two numbers.\n", "\n\n/// Adds two numbers, wrapping.\n");
  IndexReport docs = Index();
  EXPECT_EQ(docs.files_relinked, 1);
  Replace("src/shapes.rs", "    std::mem::drop(0);\n", "");
  IndexReport dropped = Index();
  EXPECT_EQ(dropped.files_relinked, 1);
  EXPECT_GE(dropped.delta.nodes_removed, 1);  // the external std::mem::drop

  // The same graph as the tree indexed from scratch.
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());
}

TEST_F(HistoryTest, SettledFilesAreNotReadAgainUntilTheirStatChanges) {
  // Files written just now are not trusted yet: all read again.
  Write("src/lib.rs", Read("src/lib.rs"));
  Write("src/shapes.rs", Read("src/shapes.rs"));
  IndexReport fresh = Index();
  EXPECT_EQ(fresh.files_read, 2);
  // Once they have settled, a run that reads them remembers their stat...
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(Index().files_read, 2);
  // ...and the next runs read nothing.
  IndexReport quiet = Index();
  EXPECT_EQ(quiet.files_read, 0);
  EXPECT_EQ(quiet.files_seen, 2);
  EXPECT_FALSE(quiet.version.has_value());
  // An edit of the same size, its mtime put back: the change time shows it.
  const fs::path lib = dir_ / "src/lib.rs";
  struct stat before;
  ASSERT_EQ(::stat(lib.c_str(), &before), 0);
  Replace("src/lib.rs", "    a + b\n", "    b + a\n");
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, lib.c_str(), times, 0), 0);
  IndexReport edited = Index();
  EXPECT_EQ(edited.files_read, 1);
  ASSERT_TRUE(edited.version.has_value());
  EXPECT_EQ(edited.delta.nodes_changed, 1);
  auto d = engine_->Describe(One("demo::add").id);
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(d->source.value_or(""), HasSubstr("b + a"));
}

TEST_F(HistoryTest, KeptStateIsForgottenWhenAnotherWriterCommitted) {
  // This engine keeps parses and fingerprints of what it wrote (v1).
  const std::string original = Read("src/lib.rs");
  // Another writer indexes an edit...
  Engine::Options o;
  o.db_path = (dir_ / "graph.db").string();
  auto other = Engine::Open(o);
  ASSERT_TRUE(other.ok());
  Replace("src/lib.rs", "    a + b\n", "    a.wrapping_add(b)\n");
  IndexOptions options;
  options.jobs = 2;
  ASSERT_TRUE((*other)->Index(dir_.string(), options).ok());
  // ...and the file goes back to what this engine last wrote: its rows must
  // be written again, not skipped as "already so".
  Write("src/lib.rs", original);
  IndexReport back = Index();
  ASSERT_TRUE(back.version.has_value());
  EXPECT_EQ(back.delta.nodes_changed, 1);
  auto d = engine_->Describe(One("demo::add").id);
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(d->source.value_or(""), HasSubstr("a + b"));
}

// `watch` names the files that changed: the run starts from what the last
// run found on disk and reads those only, unless a file was created or
// deleted or another path changed.
TEST_F(HistoryTest, TargetedRunsLookOnlyAtTheChangedFiles) {
  Replace("src/lib.rs", "    a + b\n", "    a.wrapping_add(b)\n");
  IndexReport edit = Index(std::vector<std::string>{"src/lib.rs"});
  EXPECT_TRUE(edit.targeted);
  EXPECT_EQ(edit.files_read, 1);
  ASSERT_TRUE(edit.version.has_value());
  EXPECT_EQ(edit.delta.nodes_changed, 1);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());

  // A change it is not told of stays unseen (the caller vouched)...
  Replace("src/lib.rs", "    7\n", "    8\n");
  Replace("src/shapes.rs", "    Circle { r: 1.0 }\n", "    Circle { r: 2.0 }\n");
  IndexReport partial = Index(std::vector<std::string>{(dir_ / "src/shapes.rs").string()});
  EXPECT_TRUE(partial.targeted);
  EXPECT_EQ(partial.files_read, 1);
  EXPECT_EQ(partial.delta.nodes_changed, 1);
  EXPECT_THAT(engine_->Describe(One("demo::unused_helper").id)->source.value_or(""),
              HasSubstr("    7\n"));
  // ...until a run looks at everything.
  IndexReport full = Index();
  EXPECT_FALSE(full.targeted);
  EXPECT_EQ(full.delta.nodes_changed, 1);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());

  // A change it is told of that makes the whole crate be built again (a new
  // item) reads the files it was not told of too: one rewritten since the
  // last run is indexed as that run saw it, text and items alike (not its
  // new bytes under its old items, which would pass for unchanged later).
  Replace("src/lib.rs", "    8\n", "    9\n");
  Replace("src/shapes.rs", "pub struct Circle",
          "pub fn added_item() -> u8 { 1 }\n\npub struct Circle");
  IndexReport rebuilt = Index(std::vector<std::string>{"src/shapes.rs"});
  EXPECT_TRUE(rebuilt.targeted);
  EXPECT_EQ(rebuilt.files_changed_meanwhile, 1);
  EXPECT_EQ(One("demo::shapes::added_item").kind, NodeKind::kFunction);
  EXPECT_THAT(engine_->Describe(One("demo::unused_helper").id)->source.value_or(""),
              HasSubstr("    8\n"));
  IndexReport told_later = Index(std::vector<std::string>{"src/lib.rs"});
  EXPECT_TRUE(told_later.targeted);
  EXPECT_EQ(told_later.delta.nodes_changed, 1);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());
  // So is one removed since, until a run that looks at everything.
  Replace("src/lib.rs", "pub mod shapes;\n", "pub mod shapes;\npub mod gone;\n");
  Write("src/gone.rs", "pub fn soon_gone() {}\n");
  EXPECT_FALSE(Index(std::vector<std::string>{"src/lib.rs", "src/gone.rs"}).targeted);
  fs::remove(dir_ / "src/gone.rs");
  Replace("src/shapes.rs", "pub struct Circle", "pub fn second_item() {}\n\npub struct Circle");
  IndexReport removed = Index(std::vector<std::string>{"src/shapes.rs"});
  EXPECT_TRUE(removed.targeted);
  EXPECT_EQ(removed.files_changed_meanwhile, 1);
  EXPECT_EQ(One("demo::gone::soon_gone").kind, NodeKind::kFunction);
  EXPECT_EQ(One("demo::shapes::second_item").kind, NodeKind::kFunction);
  EXPECT_FALSE(Index().targeted);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());
  Replace("src/lib.rs", "pub mod gone;\n", "");
  Index();

  // A new file (and the `mod` that declares it): everything is looked at.
  Replace("src/lib.rs", "pub mod shapes;\n", "pub mod shapes;\npub mod extra;\n");
  Write("src/extra.rs", "pub fn more() -> u8 { crate::unused_helper() }\n");
  IndexReport created = Index(std::vector<std::string>{"src/lib.rs", "src/extra.rs"});
  EXPECT_FALSE(created.targeted);
  EXPECT_EQ(One("demo::extra::more").kind, NodeKind::kFunction);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());
  // The scan of that run serves the next: the new file is known now.
  Replace("src/extra.rs", "pub fn more", "pub fn most");
  IndexReport renamed = Index(std::vector<std::string>{"src/extra.rs"});
  EXPECT_TRUE(renamed.targeted);
  EXPECT_EQ(renamed.delta.nodes_added, 1);
  EXPECT_EQ(renamed.delta.nodes_removed, 1);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());

  // A deleted file, and a manifest: everything is looked at.
  Replace("src/lib.rs", "pub mod extra;\n", "");
  fs::remove(dir_ / "src/extra.rs");
  IndexReport deleted = Index(std::vector<std::string>{"src/lib.rs", "src/extra.rs"});
  EXPECT_FALSE(deleted.targeted);
  EXPECT_EQ(ExportLines(*engine_), FreshExportLines());
  Write("Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.2.0\"\n");
  EXPECT_FALSE(Index(std::vector<std::string>{"Cargo.toml"}).targeted);
  // Nothing changed at all: targeted, and no version.
  IndexReport quiet = Index(std::vector<std::string>{});
  EXPECT_TRUE(quiet.targeted);
  EXPECT_EQ(quiet.files_read, 0);
  EXPECT_FALSE(quiet.version.has_value());
}

TEST(ParseTimeSpecTest, Formats) {
  EXPECT_EQ(ParseTimeSpec("@0"), 0u);
  EXPECT_EQ(ParseTimeSpec("@1700000000"), 1700000000000u);
  EXPECT_EQ(ParseTimeSpec("1970-01-02"), 86400000u);
  EXPECT_EQ(ParseTimeSpec("2026-11-26T08:00:00Z"), 1795680000000u);
  EXPECT_EQ(ParseTimeSpec("2026-11-26 08:00"), 1795680000000u);
  EXPECT_EQ(ParseTimeSpec("2026-11-26T09:00:00+01:00"), 1795680000000u);
  EXPECT_EQ(ParseTimeSpec("2026-11-26T08:00:00.250Z"), 1795680000250u);
  for (const char* bad : {"", "@", "@x", "2026-13-01", "2026-11-26T25:00", "yesterday",
                          "2026-11-26T08:00:00Zjunk", "2026-11-26T08:00+1"})
    EXPECT_FALSE(ParseTimeSpec(bad).has_value()) << bad;
}

TEST_F(HistoryTest, VersionSpecsErrors) {
  auto bad = engine_->ResolveVersion("yesterday");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("names no version"));
  auto none = engine_->ResolveVersion("99");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no version #99"));
  auto early = engine_->ResolveVersion("1970-01-01");
  ASSERT_FALSE(early.ok());
  EXPECT_THAT(early.status().message(), HasSubstr("no version at or before"));
}

}  // namespace
}  // namespace ferrograph
