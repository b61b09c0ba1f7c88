#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "hash/blake3_hasher.h"
#include "store/checkpointer.h"
#include "store/lexical_rank.h"
#include "store/sqlite.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;

// A database file of its own for a test, gone (with its WAL) after it; its
// connections must be closed first (declare it before them).
class TempDbFile {
 public:
  explicit TempDbFile(const std::string& stem)
      : path_((fs::path(testing::TempDir()) / (stem + "_" + std::to_string(getpid()) + ".db"))
                  .string()) {
    Remove();
  }
  ~TempDbFile() { Remove(); }
  TempDbFile(const TempDbFile&) = delete;
  TempDbFile& operator=(const TempDbFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  std::string path_;
};

// Database::Prepare hands a statement given back (destroyed) out again for
// the same SQL: reset, bindings cleared, and following schema changes.
TEST(StatementCacheTest, ReusedStatementsStartFreshAndFollowTheSchema) {
  TempDbFile file("stmt_cache");
  auto db = Database::Open(file.path(), /*read_only=*/false);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES(1, 'x'), "
                         "(2, 'y')")
                  .ok());
  const std::string sql = "SELECT count(*) FROM t WHERE a >= ?1";
  {
    auto st = (*db)->Prepare(sql);
    ASSERT_TRUE(st.ok());
    st->Bind(1, int64_t{2});
    ASSERT_TRUE(*st->Step());  // left mid-result: the cache resets it
    EXPECT_EQ(st->Int(0), 1);
  }
  {
    // Bindings cleared: NULL compares false, so no row counts.
    auto st = (*db)->Prepare(sql);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*st->Step());
    EXPECT_EQ(st->Int(0), 0);
    // Another statement of the same SQL at the same time is its own.
    auto other = (*db)->Prepare(sql);
    ASSERT_TRUE(other.ok());
    other->Bind(1, int64_t{1});
    ASSERT_TRUE(*other->Step());
    EXPECT_EQ(other->Int(0), 2);
    auto done = st->Step();
    ASSERT_TRUE(done.ok());
    EXPECT_FALSE(*done);
  }
  // The table is replaced: the kept statement is compiled again.
  ASSERT_TRUE((*db)->Exec("DROP TABLE t; CREATE TABLE t(a INTEGER); INSERT INTO t VALUES(5)").ok());
  {
    auto st = (*db)->Prepare(sql);
    ASSERT_TRUE(st.ok());
    st->Bind(1, int64_t{5});
    ASSERT_TRUE(*st->Step());
    EXPECT_EQ(st->Int(0), 1);
  }
  // A statement that outlives its connection is finalized, not kept.
  auto survivor = (*db)->Prepare(sql);
  ASSERT_TRUE(survivor.ok());
  db->reset();
  *survivor = Statement();
}

// Statements in a ReadSnapshot's scope read one snapshot; after it, the
// connection sees what was committed meanwhile. Inside a transaction of
// its own making, it does nothing.
TEST(ReadSnapshotTest, StatementsInItsScopeReadOneSnapshot) {
  TempDbFile file("snapshot");
  auto writer = Database::Open(file.path(), /*read_only=*/false);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)
                  ->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(a INTEGER); "
                         "INSERT INTO t VALUES(1)")
                  .ok());
  auto reader = Database::Open(file.path(), /*read_only=*/true);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto count = [&]() -> int64_t {
    auto st = (*reader)->Prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(*st->Step());
    return st->Int(0);
  };
  {
    ReadSnapshot snapshot(**reader);
    ASSERT_TRUE(snapshot.status().ok()) << snapshot.status().ToString();
    EXPECT_EQ(count(), 1);
    ASSERT_TRUE((*writer)->Exec("INSERT INTO t VALUES(2)").ok());
    EXPECT_EQ(count(), 1);
  }
  EXPECT_EQ(count(), 2);
  // Nested in the caller's transaction: that one is the snapshot, and it
  // stays open after the scope.
  ASSERT_TRUE((*reader)->Exec("BEGIN").ok());
  {
    ReadSnapshot inner(**reader);
    EXPECT_EQ(count(), 2);
  }
  ASSERT_TRUE((*writer)->Exec("INSERT INTO t VALUES(3)").ok());
  EXPECT_EQ(count(), 2);
  ASSERT_TRUE((*reader)->Exec("COMMIT").ok());
  EXPECT_EQ(count(), 3);
}

// BindView does not copy: what is stored is the bytes as they are when the
// statement runs, and a reset leaves no binding behind (no pointer into the
// caller's memory outlives the run).
TEST(StatementTest, ViewsAreReadWhenTheStatementRunsAndClearedByItsReset) {
  TempDbFile file("stmt_view");
  auto db = Database::Open(file.path(), /*read_only=*/false);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(a TEXT, b BLOB)").ok());
  auto insert = (*db)->Prepare("INSERT INTO t VALUES(?1, ?2)");
  ASSERT_TRUE(insert.ok());
  std::string text = "first";
  NodeId id = MakeNodeId("c", "p", NodeKind::kFunction, 0);
  insert->BindView(1, text).BindView(2, id);
  text[0] = 'F';  // bound by reference: the run reads this
  ASSERT_TRUE(insert->Run().ok());
  // Reset by Run: stepping again without binding inserts NULLs.
  ASSERT_TRUE(insert->Run().ok());
  auto rows = (*db)->Prepare("SELECT a, b FROM t ORDER BY rowid");
  ASSERT_TRUE(rows.ok());
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->Text(0), "First");
  EXPECT_EQ(rows->Bytes<NodeId>(1), id);
  ASSERT_TRUE(*rows->Step());
  EXPECT_TRUE(rows->IsNull(0));
  EXPECT_TRUE(rows->IsNull(1));
  EXPECT_FALSE(*rows->Step());
}
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("store_test_" +
            std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "graph.db").string();
  }
  std::unique_ptr<Store> OpenOrDie(bool read_only = false) {
    Store::Options o;
    o.read_only = read_only;
    auto s = Store::Open(path_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static Node MakeNode(const std::string& path, NodeKind kind, const std::string& body,
                       uint32_t line) {
    Node n;
    n.kind = kind;
    n.path = path;
    n.name = path.substr(path.rfind(':') + 1);
    n.crate_name = "demo";
    n.file = "src/lib.rs";
    n.id = MakeNodeId("demo", path, kind, 0);
    n.span = {line * 10, line * 10 + 5, line, line + 1};
    n.signature = "fn " + n.name + "()";
    n.content_hash = HashBytes(body);
    return n;
  }

  static FileUpdate MakeUpdate(std::vector<Node> nodes, const std::string& file_bytes) {
    FileUpdate u;
    u.file.crate_key = "demo";
    u.file.path = "src/lib.rs";
    u.file.module_path = "demo";
    u.file.like_mod_rs = true;
    // Spans in MakeNode reach byte ~20k; the file text must cover them.
    u.text = file_bytes + std::string(30000 - file_bytes.size(), '.');
    u.file.hash = HashBytes(u.text);
    u.file.size = u.text.size();
    u.file.mods_json = "[]";
    NodeId crate_id = MakeNodeId("demo", "demo", NodeKind::kCrate, 0);
    for (Node& n : nodes)
      if (n.id != crate_id) n.parent = crate_id;
    u.nodes = std::move(nodes);
    return u;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(StoreTest, CreatesSchemaAndReportsEmptyStats) {
  auto store = OpenOrDie();
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->nodes, 0);
  EXPECT_EQ(stats->versions, 0);
  EXPECT_FALSE(stats->latest.has_value());
}

TEST_F(StoreTest, CommitsOneVersionPerWriteAndSkipsUnchangedContent) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->LatestVersion().ok());
  EXPECT_FALSE(store->LatestVersion()->has_value());
  auto nodes = std::vector<Node>{MakeNode("demo", NodeKind::kCrate, "crate", 1),
                                 MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2),
                                 MakeNode("demo::b", NodeKind::kFunction, "fn b(){}", 5)};
  {
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->ApplyFile(MakeUpdate(nodes, "v1")).ok());
    EXPECT_EQ((*txn)->stats().nodes_added, 3);
    auto v = (*txn)->Commit("{}");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ASSERT_TRUE(v->has_value());
    EXPECT_EQ((*v)->ordinal, 1);
  }
  {
    // The same state again: nothing written, no version.
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->ApplyFile(MakeUpdate(nodes, "v1")).ok());
    EXPECT_TRUE((*txn)->stats().empty());
    auto v = (*txn)->Commit("{}");
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->has_value());
  }
  {
    // A second version: the latest is it, with its summary.
    nodes[1].content_hash = HashBytes("fn a(){ 1 }");
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate(nodes, "v2")).ok());
    ASSERT_TRUE(txn->Commit(R"({"n":2})").ok());
  }
  auto latest = store->LatestVersion();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->ordinal, 2);
  EXPECT_EQ((*latest)->summary, R"({"n":2})");
  EXPECT_EQ((*latest)->uuid, store->Versions()->back().uuid);
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->versions, 2);
  EXPECT_EQ(stats->nodes, 3);
  EXPECT_EQ(stats->nodes_by_kind["function"], 2);
  EXPECT_EQ(stats->edges_by_kind["CONTAINS"], 2);
  EXPECT_EQ(stats->files, 1);
}

TEST_F(StoreTest, CheckpointsRunOffTheWritersPathWhenAutomaticOnesAreOff) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->SetAutoCheckpoint(false).ok());
  const fs::path wal = path_ + "-wal";
  auto commit = [&](int round) {
    std::vector<Node> nodes{MakeNode("demo", NodeKind::kCrate, "crate", 1)};
    for (int i = 0; i < 300; ++i)
      nodes.push_back(MakeNode("demo::f" + std::to_string(i), NodeKind::kFunction,
                               "fn f() { " + std::to_string(round) + " }", 2 + i));
    auto txn = store->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->ApplyFile(MakeUpdate(nodes, "v" + std::to_string(round))).ok());
    ASSERT_TRUE((*txn)->Commit("{}").ok());
  };
  // Without checkpoints the log only grows.
  for (int round = 0; round < 20; ++round) commit(round);
  const uintmax_t grown = fs::file_size(wal);
  EXPECT_GT(grown, 1000u * 4096u);  // past SQLite's automatic 1000 pages
  auto checkpointer = WalCheckpointer::Open(path_);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
  (*checkpointer)->Request();
  (*checkpointer)->WaitIdle();
  WalCheckpointer::Counts c = (*checkpointer)->counts();
  EXPECT_EQ(c.checkpoints, 1u);
  EXPECT_EQ(c.failures, 0u);
  EXPECT_GT(c.log_frames, 1000);
  EXPECT_EQ(c.copied_frames, c.log_frames);  // all of it, while the writer stays open
  // The writer starts the log over: it stops growing.
  for (int round = 20; round < 40; ++round) {
    commit(round);
    (*checkpointer)->Request();
    (*checkpointer)->WaitIdle();
  }
  EXPECT_LE(fs::file_size(wal), grown);
  EXPECT_EQ((*checkpointer)->counts().failures, 0u);
  // Reads see every commit.
  auto stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->versions, 40);
}

TEST_F(StoreTest, DiffsByNodeIdAndContentHash) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto a = MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2);
  auto b = MakeNode("demo::b", NodeKind::kFunction, "fn b(){}", 5);
  {
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate, a, b}, "v1")).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  }
  // a changes its body, b is renamed to c.
  auto a2 = MakeNode("demo::a", NodeKind::kFunction, "fn a(){ x(); }", 2);
  auto c = MakeNode("demo::c", NodeKind::kFunction, "fn c(){}", 5);
  auto txn = std::move(store->BeginWrite()).value();
  ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate, a2, c}, "v2")).ok());
  EXPECT_EQ(txn->stats().nodes_changed, 1);
  EXPECT_EQ(txn->stats().nodes_added, 1);
  EXPECT_EQ(txn->stats().nodes_removed, 1);
  EXPECT_EQ(txn->stats().files_changed, 1);
  ASSERT_TRUE(txn->Commit("{}").ok());

  auto found = store->FindNodes("a", 10);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].content_hash, a2.content_hash);
  EXPECT_TRUE(store->FindNodes("demo::b", 10)->empty());
  auto src = store->NodeSource(a2.id);
  ASSERT_TRUE(src.ok() && src->has_value()) << src.status().ToString();
  EXPECT_EQ(src->value().size(), a2.span.end_byte - a2.span.start_byte);
}

TEST_F(StoreTest, NodeSourceIsItsSpanOfTheFileText) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto b = MakeNode("demo::b", NodeKind::kFunction, "fn b(){}", 2);
  FileUpdate u = MakeUpdate({crate, b}, "");
  u.text = "fn a(){}\nfn b(){}\n";
  u.file.hash = HashBytes(u.text);
  u.nodes[0].span = {0, 18, 1, 2};
  u.nodes[1].span = {9, 17, 2, 2};
  auto txn = std::move(store->BeginWrite()).value();
  ASSERT_TRUE(txn->ApplyFile(u).ok());
  ASSERT_TRUE(txn->Commit("{}").ok());
  auto src = store->NodeSource(b.id);
  ASSERT_TRUE(src.ok() && src->has_value()) << src.status().ToString();
  EXPECT_EQ(**src, "fn b(){}");
  // Containment reads back as CONTAINS edges.
  auto up = store->EdgesTo(b.id, EdgeKind::kContains);
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ((*up)[0].src, crate.id);
  EXPECT_EQ(store->Stats()->edges_by_kind["CONTAINS"], 1);
}

TEST(SpanOverlayTest, EncodesDeterministicallyAndDecodesWhatItEncoded) {
  SpanOverlay o;
  o.nodes[MakeNodeId("demo", "demo::a", NodeKind::kFunction, 0)] = {100, 180, 7, 9};
  o.nodes[MakeNodeId("demo", "demo::b", NodeKind::kFunction, 0)] = {0, 4000000000u, 1, 90000};
  o.edge_lines[3] = 12;
  o.edge_lines[1099511627775] = 1;
  o.edge_lines[70] = 8;
  std::string data = o.Encode();
  SpanOverlay copy;  // the same entries inserted in another order
  std::vector<std::pair<int64_t, uint32_t>> lines(o.edge_lines.begin(), o.edge_lines.end());
  std::sort(lines.begin(), lines.end(), std::greater<>());
  for (const auto& e : lines) copy.edge_lines.emplace(e.first, e.second);
  copy.edge_lines.emplace(70, 99);  // a repeated key: the first one added wins
  copy.nodes = o.nodes;
  EXPECT_FALSE(copy.edge_lines.sealed());
  copy.Seal();
  EXPECT_EQ(copy.edge_lines.find(70)->second, 8u);
  EXPECT_EQ(copy.Encode(), data);
  auto back = SpanOverlay::Decode(data);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == o);
  auto empty = SpanOverlay::Decode(SpanOverlay().Encode());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  // Anything else is refused, never read past its end.
  for (size_t cut = 0; cut < data.size(); ++cut)
    EXPECT_FALSE(SpanOverlay::Decode(data.substr(0, cut)).ok()) << cut;
  EXPECT_FALSE(SpanOverlay::Decode(data + "x").ok());
  std::string other = data;
  other[0] = 2;
  EXPECT_THAT(SpanOverlay::Decode(other).status().message(), HasSubstr("unknown format"));
  EXPECT_FALSE(SpanOverlay::Decode(std::string("\x01\xff\xff\xff\xff\x0f", 6)).ok());
  // Entries out of order, or repeated, are not what Encode writes.
  SpanOverlay two_edges;
  two_edges.edge_lines[5] = 1;
  two_edges.edge_lines[9] = 2;
  std::string edges = two_edges.Encode();  // ..., gap 5, line 1, gap 4, line 2
  std::string repeated = edges;
  repeated[repeated.size() - 2] = 0;  // second gap 0: rowid 5 twice
  EXPECT_THAT(SpanOverlay::Decode(repeated).status().message(), HasSubstr("repeated"));
}

// Lines added above items: their rows stay, one overlay row says where they
// are, the edges' sites pair up with their rows in line order, and every
// read as of each version gives that version's places.
TEST_F(StoreTest, MovedRowsStayAndTheOverlayPlacesThem) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto a = MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2);
  auto b = MakeNode("demo::b", NodeKind::kFunction, "fn b(){}", 5);
  auto update = [&](int shift, std::vector<uint32_t> call_lines) {
    Node a2 = a, b2 = b;
    b2.span = {b.span.start_byte + static_cast<uint32_t>(shift) * 10, b.span.end_byte + shift * 10u,
               b.span.start_line + shift, b.span.end_line + shift};
    FileUpdate u = MakeUpdate({crate, a2, b2}, "v" + std::to_string(shift));
    for (uint32_t line : call_lines) {
      Edge e;
      e.kind = EdgeKind::kCalls;
      e.src = b.id;
      e.dst = a.id;
      e.line = line;
      e.props = R"({"resolved":"exact"})";
      u.edges.push_back(e);
    }
    return u;
  };
  auto commit = [&](const FileUpdate& u) {
    auto txn = std::move(store->BeginWrite()).value();
    EXPECT_TRUE(txn->ApplyFile(u).ok());
    WriteStats stats = txn->stats();
    auto v = txn->Commit("{}");
    EXPECT_TRUE(v.ok() && v->has_value());
    return std::make_pair(stats, v.ok() && v->has_value() ? (*v)->ordinal : 0);
  };
  auto call_lines = [&]() {
    std::vector<uint32_t> lines;
    auto edges = store->EdgesFrom(b.id, EdgeKind::kCalls);
    EXPECT_TRUE(edges.ok()) << edges.status().ToString();
    if (edges.ok())
      for (const Edge& e : *edges) lines.push_back(e.line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  auto [s1, v1] = commit(update(0, {6, 7}));
  // b moves 3 lines down with both its calls; a third call is added.
  auto [s2, v2] = commit(update(3, {9, 10, 11}));
  EXPECT_EQ(s2.nodes_moved, 1);
  EXPECT_EQ(s2.nodes_changed + s2.nodes_added + s2.nodes_removed, 0);
  EXPECT_EQ(s2.edges_moved, 2);
  EXPECT_EQ(s2.edges_added, 1);
  EXPECT_EQ(s2.edges_removed, 0);
  // File row closed and opened, one edge row, one overlay row.
  EXPECT_EQ(s2.rows_written, 4);
  EXPECT_EQ((*store->GetNode(b.id))->span.start_line, 8u);
  EXPECT_EQ(call_lines(), (std::vector<uint32_t>{9, 10, 11}));
  auto diff = store->Diff(v1, v2, true);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  ASSERT_EQ(diff->moved.size(), 1u);
  EXPECT_EQ(diff->moved[0].before.span.start_line, 5u);
  EXPECT_EQ(diff->moved[0].after.span.start_line, 8u);
  EXPECT_EQ(diff->edges_moved, 2);
  ASSERT_EQ(diff->edges_added.size(), 1u);
  EXPECT_EQ(diff->edges_added[0].line, 11u);
  store->SetReadVersion(v1);
  EXPECT_EQ((*store->GetNode(b.id))->span.start_line, 5u);
  EXPECT_EQ(call_lines(), (std::vector<uint32_t>{6, 7}));
  store->SetReadVersion(std::nullopt);
  // Back up: every row is where it says again, the overlay row closes.
  auto [s3, v3] = commit(update(0, {6, 7}));
  EXPECT_EQ(s3.nodes_moved, 1);
  EXPECT_EQ(s3.edges_removed, 1);
  EXPECT_EQ(s3.rows_written, 4);  // file row twice, the third call closed, the overlay closed
  EXPECT_EQ((*store->GetNode(b.id))->span.start_line, 5u);
  EXPECT_EQ(call_lines(), (std::vector<uint32_t>{6, 7}));
  store->SetReadVersion(v2);
  EXPECT_EQ((*store->GetNode(b.id))->span.start_line, 8u);
  EXPECT_EQ(call_lines(), (std::vector<uint32_t>{9, 10, 11}));
  store->SetReadVersion(std::nullopt);
  (void)v3;
}

// The text embedded for a node is its span of the current file text: for a
// row an edit above it moved, where its file's overlay places it.
TEST_F(StoreTest, PendingEmbeddingsTakeAMovedRowsTextWhereItIsNow) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto b = MakeNode("demo::b", NodeKind::kFunction, "fn b(){}", 2);
  auto write = [&](const std::string& above) {
    FileUpdate u = MakeUpdate({crate, b}, "");
    u.text = "fn a(){}\n" + above + "fn b(){}\n";
    u.file.hash = HashBytes(u.text);
    u.file.size = u.text.size();
    const uint32_t at = static_cast<uint32_t>(9 + above.size());
    const uint32_t lines = static_cast<uint32_t>(std::count(above.begin(), above.end(), '\n'));
    u.nodes[0].span = {0, static_cast<uint32_t>(u.text.size()), 1, 2 + lines};
    u.nodes[1].span = {at, at + 8, 2 + lines, 2 + lines};
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(u).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  };
  write("");
  write("// one\n// two\n");  // b moves: its row stays, the overlay places it
  auto model = store->EnsureModel("m-1", 2, "m");
  ASSERT_TRUE(model.ok());
  auto jobs = store->PendingEmbeddings(model->key, 1 << 20);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  bool found = false;
  for (const EmbedJob& j : *jobs)
    if (j.content_hash == b.content_hash) {
      found = true;
      EXPECT_EQ(j.text, "fn b(){}");
    }
  EXPECT_TRUE(found);
}

// More files with overlays than the store keeps decoded: a pass that comes
// back to a file (edges are read in row order, across files) still places
// its rows by that file's overlay.
TEST_F(StoreTest, OverlaysOfManyFilesInOnePass) {
  auto store = OpenOrDie();
  constexpr int kFiles = 300;
  auto file_update = [&](int f, uint32_t shift, bool second_call) {
    FileUpdate u;
    u.file.crate_key = "demo";
    u.file.path = "src/m" + std::to_string(f) + ".rs";
    u.file.module_path = "demo::m" + std::to_string(f);
    u.text = std::string(200, ' ') + std::to_string(shift);
    u.file.hash = HashBytes(u.text);
    u.file.size = u.text.size();
    u.file.mods_json = "[]";
    Node n = MakeNode("demo::m" + std::to_string(f) + "::g", NodeKind::kFunction, "fn g(){}", 2);
    n.file = u.file.path;
    n.span = {10 + shift, 20 + shift, 2 + shift, 3 + shift};
    u.nodes.push_back(n);
    Edge e;
    e.kind = EdgeKind::kCalls;
    e.src = n.id;
    e.dst = MakeNodeId("demo", "demo::h", NodeKind::kFunction, 0);
    e.line = 3 + shift;
    u.edges.push_back(e);
    if (second_call) {  // added by a later version: its row comes after every file's first
      e.dst = MakeNodeId("demo", "demo::k", NodeKind::kFunction, 0);
      e.line = 9 + shift;
      u.edges.push_back(e);
    }
    return u;
  };
  // Each file's two calls get rows far apart (the second in a later
  // version); then everything moves 5 lines down, both calls included.
  for (auto [shift, second] : {std::pair{0u, false}, std::pair{0u, true}, std::pair{5u, true}}) {
    auto txn = std::move(store->BeginWrite()).value();
    for (int f = 0; f < kFiles; ++f)
      ASSERT_TRUE(txn->ApplyFile(file_update(f, shift, second)).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  }
  const NodeId h = MakeNodeId("demo", "demo::h", NodeKind::kFunction, 0);
  int edges = 0;
  ASSERT_TRUE(store
                  ->ForEachEdge([&](const Edge& e) {
                    if (e.kind != EdgeKind::kCalls) return Status::OK();
                    ++edges;
                    EXPECT_EQ(e.line, e.dst == h ? 8u : 14u) << e.file;
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(edges, 2 * kFiles);
  int nodes = 0;
  ASSERT_TRUE(store
                  ->ForEachNode([&](const Node& n) {
                    ++nodes;
                    EXPECT_EQ(n.span.start_line, 7u) << n.path;
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(nodes, kFiles);
  // Twice over the same store: the second pass starts from a cache that
  // has already dropped the first files' overlays.
  edges = 0;
  ASSERT_TRUE(store
                  ->ForEachEdge([&](const Edge& e) {
                    edges += e.kind == EdgeKind::kCalls && e.line == (e.dst == h ? 8u : 14u);
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(edges, 2 * kFiles);
}

// Every row of the graph tables, rowids and validity included.
std::string DumpRows(const std::string& path) {
  auto db = std::move(Database::Open(path, true)).value();
  std::string out;
  for (const char* sql :
       {"SELECT quote(rowid)||'|'||quote(id)||kind||name||path||quote(file_key)||'|'||start_byte||"
        "','||end_byte||','||start_line||','||end_line||signature||attrs||quote(content_hash)||"
        "quote(parent)||'|'||valid_from||','||quote(valid_to) FROM nodes ORDER BY rowid",
        "SELECT rowid||kind||quote(src)||quote(dst)||file_key||','||line||props||'|'||valid_from||"
        "','||quote(valid_to) FROM edges ORDER BY rowid",
        "SELECT rowid||','||file_key||quote(data)||'|'||valid_from||','||quote(valid_to) FROM "
        "spans ORDER BY rowid",
        "SELECT key||'='||n FROM counts ORDER BY key"}) {
    auto st = std::move(db->Prepare(sql)).value();
    while (*st.Step()) out += st.Text(0) + "\n";
    out += "--\n";
  }
  return out;
}

// A writer that keeps its large files' rows between writes (`watch`) writes
// exactly the rows one that reads them back writes, through moves, edits,
// removals, renames, a version with no change, and another writer's commit
// in between (which the kept rows must not survive).
TEST_F(StoreTest, KeptRowsWriteWhatReadingTheRowsBackWrites) {
  const std::string kept_path = path_;
  const std::string read_path = (dir_ / "read_back.db").string();
  auto kept = OpenOrDie();
  auto read_back = std::move(Store::Open(read_path, {})).value();
  constexpr int kFunctions = 300;  // with their calls: above KeptFileRows::kMinRows
  struct Shape {
    uint32_t shift = 0;     // lines added above every function
    std::set<int> changed;  // functions whose body changed
    std::set<int> removed;  // functions gone
    std::map<int, std::string> renamed;
    bool extra_call = false;  // function 7 calls function 8 a second time
  };
  auto update = [&](const Shape& shape) {
    std::vector<Node> nodes{MakeNode("demo", NodeKind::kCrate, "crate", 1)};
    std::vector<Edge> edges;
    for (int f = 0; f < kFunctions; ++f) {
      if (shape.removed.count(f)) continue;
      auto name = shape.renamed.count(f) ? shape.renamed.at(f) : "f" + std::to_string(f);
      Node n = MakeNode("demo::" + name, NodeKind::kFunction,
                        "fn " + name + "(){}" + (shape.changed.count(f) ? " // edited" : ""),
                        2 + 3 * static_cast<uint32_t>(f));
      n.span.start_line += shape.shift;
      n.span.end_line += shape.shift;
      n.span.start_byte += shape.shift * 10;
      n.span.end_byte += shape.shift * 10;
      Edge call;
      call.kind = EdgeKind::kCalls;
      call.src = n.id;
      call.dst = MakeNodeId("demo", "demo::f" + std::to_string((f + 1) % kFunctions),
                            NodeKind::kFunction, 0);
      call.line = n.span.start_line + 1;
      call.props = R"({"resolved":"exact"})";
      edges.push_back(call);
      if (f == 7 && shape.extra_call) {
        call.line += 1;
        edges.push_back(call);
      }
      nodes.push_back(std::move(n));
    }
    FileUpdate u = MakeUpdate(std::move(nodes), "shape " + std::to_string(shape.shift) + " " +
                                                    std::to_string(shape.changed.size()) + " " +
                                                    std::to_string(shape.removed.size()));
    u.edges = std::move(edges);
    return u;
  };
  // Every other write of the kept store goes in two steps (BeginFile with
  // the nodes, FinishFile once the edges are there), as the indexer writes
  // a file while its edges are resolved.
  int kept_writes = 0;
  auto write = [&](Store& store, const FileUpdate& u, bool keep_rows) {
    auto txn = std::move(store.BeginWrite(keep_rows)).value();
    if (keep_rows && kept_writes++ % 2 == 1) {
      FileUpdate staged = u;
      std::vector<Edge> edges = std::move(staged.edges);
      staged.edges.clear();
      EXPECT_TRUE(txn->BeginFile(staged).ok());
      staged.edges = std::move(edges);
      EXPECT_TRUE(txn->FinishFile(staged).ok());
    } else {
      EXPECT_TRUE(txn->ApplyFile(u).ok());
    }
    WriteStats stats = txn->stats();
    EXPECT_TRUE(txn->Commit("{}").ok());
    return stats;
  };
  auto both = [&](const Shape& shape) {
    FileUpdate u = update(shape);
    WriteStats a = write(*kept, u, true);
    WriteStats b = write(*read_back, u, false);
    EXPECT_EQ(a.rows_written, b.rows_written);
    EXPECT_EQ(a.nodes_moved, b.nodes_moved);
    EXPECT_EQ(a.edges_moved, b.edges_moved);
    EXPECT_EQ(a.nodes_changed + a.nodes_added + a.nodes_removed,
              b.nodes_changed + b.nodes_added + b.nodes_removed);
    EXPECT_EQ(a.edges_added + a.edges_removed, b.edges_added + b.edges_removed);
    EXPECT_EQ(DumpRows(kept_path), DumpRows(read_path));
  };

  both(Shape{});
  EXPECT_EQ(kept->kept_row_files(), 1u);  // the writes below start from kept rows
  both(Shape{4, {3}, {}, {}, false});
  both(Shape{4, {3}, {10, 11}, {}, true});
  both(Shape{9, {3, 40}, {10}, {{20, "g20"}}, true});
  both(Shape{9, {3, 40}, {10}, {{20, "g20"}}, true});  // nothing changed: no version
  both(Shape{0, {}, {}, {}, false});                   // back where it began
  EXPECT_EQ(kept->kept_row_files(), 1u);

  // Another writer commits a change of the file; the kept rows are stale.
  {
    auto other = OpenOrDie();
    FileUpdate u = update(Shape{2, {5}, {6}, {}, false});
    write(*other, u, false);
    write(*read_back, u, false);
  }
  both(Shape{3, {5}, {6, 7}, {}, true});
  both(Shape{1, {}, {}, {}, false});
  EXPECT_EQ(kept->kept_row_files(), 1u);

  // A write that rolls back loses nothing: the next write is still right.
  {
    auto txn = std::move(kept->BeginWrite(true)).value();
    ASSERT_TRUE(txn->ApplyFile(update(Shape{6, {1}, {}, {}, false})).ok());
  }
  both(Shape{5, {2}, {}, {}, false});
  // Files whose rows are not kept (small), and a removed file.
  {
    auto txn = std::move(kept->BeginWrite(true)).value();
    ASSERT_TRUE(txn->RemoveFile("demo", "src/lib.rs").ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
    auto txn2 = std::move(read_back->BeginWrite(false)).value();
    ASSERT_TRUE(txn2->RemoveFile("demo", "src/lib.rs").ok());
    ASSERT_TRUE(txn2->Commit("{}").ok());
  }
  EXPECT_EQ(kept->kept_row_files(), 0u);
  EXPECT_EQ(DumpRows(kept_path), DumpRows(read_path));
  both(Shape{});
}

TEST_F(StoreTest, ACorruptOverlayIsAnErrorNamingItsRow) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto b = MakeNode("demo::b", NodeKind::kFunction, "fn b(){}", 5);
  for (uint32_t line : {5u, 9u}) {
    Node b2 = b;
    b2.span.start_line = line;
    b2.span.end_line = line + 1;
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate, b2}, "v" + std::to_string(line))).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  }
  store.reset();
  {
    auto db = Database::Open(path_, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("UPDATE spans SET data = x'01ff'").ok());
  }
  store = OpenOrDie();
  auto n = store->GetNode(b.id);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(n.status().message(), HasSubstr("spans row"));
  // A write refuses it too, rather than building on it.
  auto txn = std::move(store->BeginWrite()).value();
  Status s = txn->ApplyFile(MakeUpdate({crate, b}, "v3"));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("src/lib.rs"));
}

// VectorState's count is kept in meta (count(*) walks every vector): it must
// equal count(*) through duplicates, gc, and a database that has no kept
// count yet.
TEST_F(StoreTest, KeptVectorCountsEqualTheVectorsThere) {
  auto store = OpenOrDie();
  auto model = store->EnsureModel("m-1", 2, "m");
  ASSERT_TRUE(model.ok());
  const int64_t key = model->key;
  auto count = [&]() {
    auto db = Database::Open(path_, true);
    EXPECT_TRUE(db.ok());
    auto st = (*db)->Prepare("SELECT count(*), max(id) FROM vectors WHERE model = " +
                             std::to_string(key));
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(*st->Step());
    return std::make_pair(st->Int(0), st->Int(1));
  };
  auto put = [&](std::vector<std::string> texts) {
    std::vector<ContentHash> hashes;
    for (const std::string& t : texts) hashes.push_back(HashBytes(t));
    std::vector<float> rows(2 * hashes.size(), 0.5f);
    ASSERT_TRUE(store->PutVectors(key, 2, hashes, rows).ok());
  };
  auto expect_state = [&]() {
    auto state = store->VectorState(key);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    auto [n, max_id] = count();
    EXPECT_EQ(state->count, n);
    EXPECT_EQ(state->max_id, max_id);
  };
  put({"a", "b", "c"});
  expect_state();
  put({"b", "c", "d"});  // two already there
  expect_state();
  EXPECT_EQ(store->VectorState(key)->count, 4);
  // No node has any of this content: gc drops all four.
  ASSERT_TRUE(store->CollectGarbage({"m-1"}).ok());
  expect_state();
  EXPECT_EQ(store->VectorState(key)->count, 0);
  put({"e"});
  expect_state();
  // A database from before the kept count: counted, and kept from the next write on.
  {
    auto db = Database::Open(path_, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DELETE FROM meta WHERE key LIKE 'vector_count:%'").ok());
  }
  expect_state();
  put({"f", "e"});
  expect_state();
  EXPECT_EQ(store->VectorState(key)->count, 2);
}

TEST_F(StoreTest, StatsCountsMatchTheGraphAfterEdits) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto a = MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2);
  auto b = MakeNode("demo::b", NodeKind::kStruct, "struct b;", 5);
  auto c = MakeNode("demo::c", NodeKind::kFunction, "fn c(){}", 7);
  auto a2 = MakeNode("demo::a", NodeKind::kFunction, "fn a(){ 1; }", 2);
  std::vector<std::vector<Node>> states = {
      {crate, a, b}, {crate, a2, c}, {crate, c}, {crate, a, b, c}};
  for (size_t i = 0; i < states.size(); ++i) {
    auto txn = std::move(store->BeginWrite()).value();
    FileUpdate u = MakeUpdate(states[i], "v" + std::to_string(i));
    Edge uses;
    uses.kind = EdgeKind::kUsesType;
    uses.src = c.id;
    uses.dst = crate.id;
    if (i % 2) u.edges.push_back(uses);
    ASSERT_TRUE(txn->ApplyFile(u).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());

    std::map<std::string, int64_t> nodes, edges;
    store->ForEachNode([&](const Node& n) {
      nodes[std::string(KindName(n.kind))]++;
      return Status::OK();
    });
    store->ForEachEdge([&](const Edge& e) {
      edges[std::string(KindName(e.kind))]++;
      return Status::OK();
    });
    auto stats = store->Stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->nodes_by_kind, nodes) << "after state " << i;
    EXPECT_EQ(stats->edges_by_kind, edges) << "after state " << i;
    EXPECT_EQ(stats->files, 1);
  }
}

TEST_F(StoreTest, RemoveFileClosesItsRows) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto a = MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2);
  {
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate, a}, "v1")).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  }
  auto txn = std::move(store->BeginWrite()).value();
  ASSERT_TRUE(txn->RemoveFile("demo", "src/lib.rs").ok());
  EXPECT_EQ(txn->stats().nodes_removed, 2);
  EXPECT_EQ(txn->stats().files_removed, 1);
  ASSERT_TRUE(txn->Commit("{}").ok());
  EXPECT_EQ(store->Stats()->nodes, 0);
  EXPECT_EQ(store->Stats()->versions, 2);
  EXPECT_TRUE(store->CurrentFiles()->empty());
}

TEST_F(StoreTest, UncommittedWriteLeavesPreviousVersion) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  {
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate}, "v1")).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  }
  {
    auto txn = std::move(store->BeginWrite()).value();
    ASSERT_TRUE(txn->RemoveFile("demo", "src/lib.rs").ok());
    // Dropped without Commit: rolled back.
  }
  EXPECT_EQ(store->Stats()->nodes, 1);
  EXPECT_EQ(store->Stats()->versions, 1);
}

TEST_F(StoreTest, ReaderSeesLastCommitWhileWriterWrites) {
  auto writer = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto a = MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2);
  {
    auto txn = std::move(writer->BeginWrite()).value();
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate}, "v1")).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
  }
  auto txn = std::move(writer->BeginWrite()).value();
  ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate, a}, "v2")).ok());
  auto reader = OpenOrDie(/*read_only=*/true);
  EXPECT_EQ(reader->Stats()->nodes, 1);
  ASSERT_TRUE(txn->Commit("{}").ok());
  EXPECT_EQ(reader->Stats()->nodes, 2);
}

TEST_F(StoreTest, AWriterOpensWhileAFirstIndexHoldsTheLock) {
  auto first = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  // The first version is written with a rollback journal (BeginWrite), and
  // while it is, SQLite refuses to switch the file to WAL without waiting.
  auto txn = std::move(first->BeginWrite()).value();
  ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate}, "v1")).ok());
  {
    auto raw = std::move(Database::Open(path_, false)).value();
    Status wal = raw->Exec("PRAGMA journal_mode=WAL");
    EXPECT_EQ(wal.code(), StatusCode::kBusy);
    EXPECT_THAT(wal.message(), HasSubstr(path_));
    EXPECT_THAT(wal.message(), HasSubstr("another process is writing to the database"));
  }
  // A second writer (another `index`, a `watch`) still opens; it waits for
  // the lock when it writes.
  auto second = Store::Open(path_, {});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(txn->Commit("{}").ok());
  txn.reset();
  auto again = (*second)->BeginWrite();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE((*again)
                  ->ApplyFile(MakeUpdate(
                      {crate, MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2)}, "v2"))
                  .ok());
  ASSERT_TRUE((*again)->Commit("{}").ok());
  EXPECT_EQ((*second)->Stats()->nodes, 2);
  second->reset();
  auto raw = std::move(Database::Open(path_, false)).value();
  auto mode = raw->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->Text(0), "wal");  // the first writer set it back
}

TEST_F(StoreTest, RefusesAFileThatIsNotADatabase) {
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(i * 7));
  }
  auto s = Store::Open(path_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(s.status().message(), HasSubstr(path_));
  EXPECT_THAT(s.status().message(), HasSubstr("not a ferrograph database"));
}

TEST_F(StoreTest, RefusesAForeignSqliteDatabase) {
  {
    auto db = std::move(Database::Open(path_, false)).value();
    ASSERT_TRUE(db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES(1);").ok());
  }
  auto s = Store::Open(path_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
}

TEST_F(StoreTest, RefusesANewerSchema) {
  OpenOrDie();
  {
    auto db = std::move(Database::Open(path_, false)).value();
    ASSERT_TRUE(db->Exec("PRAGMA user_version=99").ok());
  }
  auto s = Store::Open(path_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(s.status().message(), HasSubstr("newer"));
}

TEST_F(StoreTest, RefusesATruncatedDatabase) {
  {
    auto store = OpenOrDie();
    auto txn = std::move(store->BeginWrite()).value();
    std::vector<Node> many;
    for (int i = 0; i < 2000; ++i)
      many.push_back(MakeNode("demo::f" + std::to_string(i), NodeKind::kFunction,
                              "fn f" + std::to_string(i), i + 1));
    ASSERT_TRUE(txn->ApplyFile(MakeUpdate(many, "big")).ok());
    ASSERT_TRUE(txn->Commit("{}").ok());
    // Checkpoint so the main file holds the data.
    auto db = std::move(Database::Open(path_, false)).value();
    ASSERT_TRUE(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  fs::remove(path_ + "-wal");
  fs::remove(path_ + "-shm");
  // Damage the middle of the file.
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 2);
    std::string junk(4096 * 4, '\x5a');
    f.write(junk.data(), junk.size());
  }
  auto s = Store::Open(path_, {});
  if (s.ok()) {
    // The header survived; queries over the damaged pages must fail cleanly.
    auto stats = (*s)->Stats();
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.status().code(), StatusCode::kCorruption);
  } else {
    EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  }
}

TEST_F(StoreTest, ReadOnlyOpenOfMissingFileIsNotFound) {
  Store::Options o;
  o.read_only = true;
  auto s = Store::Open(path_, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(path_));
}

// Token counts are read one by one until that would cost about as much as
// one scan of every row (1/64 of the rows, at least 1024 reads), counting
// the reads a search is about to make; after a scan, only rows added since.
TEST(LexicalLengthsTest, ScansOnceReadingRowsOneByOneWouldCostMore) {
  LexicalLengths fresh;
  EXPECT_FALSE(fresh.ScanBefore(1000, 335000));  // 1000 < 335000 / 64
  EXPECT_TRUE(fresh.ScanBefore(6000, 335000));
  fresh.misses = 5000;
  EXPECT_TRUE(fresh.ScanBefore(300, 335000));
  LexicalLengths small;
  EXPECT_FALSE(small.ScanBefore(1000, 10000));
  EXPECT_TRUE(small.ScanBefore(1024, 10000));
  LexicalLengths scanned;
  scanned.scanned = true;
  EXPECT_FALSE(scanned.ScanBefore(1000000, 335000));
  scanned.misses = 6000;
  EXPECT_TRUE(scanned.ScanBefore(0, 335000));
  scanned.Clear();
  EXPECT_FALSE(scanned.scanned);
  LexicalLengths disagreeing;
  disagreeing.scans_agree = false;
  EXPECT_FALSE(disagreeing.ScanBefore(1000000, 335000));
}

TEST_F(StoreTest, EdgesAreQueryableBothWays) {
  auto store = OpenOrDie();
  auto crate = MakeNode("demo", NodeKind::kCrate, "crate", 1);
  auto a = MakeNode("demo::a", NodeKind::kFunction, "fn a(){}", 2);
  auto txn = std::move(store->BeginWrite()).value();
  ASSERT_TRUE(txn->ApplyFile(MakeUpdate({crate, a}, "v1")).ok());
  ASSERT_TRUE(txn->Commit("{}").ok());
  auto out = store->EdgesFrom(crate.id, EdgeKind::kContains);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].dst, a.id);
  auto in = store->EdgesTo(a.id, std::nullopt);
  ASSERT_EQ(in->size(), 1u);
  EXPECT_EQ((*in)[0].src, crate.id);
  std::vector<std::string> paths;
  ASSERT_TRUE(store
                  ->ForEachNode([&](const Node& n) {
                    paths.push_back(n.path);
                    return Status::OK();
                  })
                  .ok());
  EXPECT_THAT(paths, ElementsAre("demo", "demo::a"));
}

}  // namespace
}  // namespace ferrograph
