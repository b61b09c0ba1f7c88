#include "ingest/indexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "hash/blake3_hasher.h"
#include "store/sqlite.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

class IndexerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::path(testing::TempDir()) /
        ("indexer_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    db_ = (root_ / ".ferrograph" / "graph.db").string();
  }

  void Write(const std::string& rel, const std::string& text) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }

  std::unique_ptr<Store> OpenStore() {
    auto s = Store::Open(db_, {});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  IndexReport Index(bool resolve = true) {
    auto store = OpenStore();
    IndexOptions o;
    o.jobs = 2;
    o.resolve = resolve;
    auto r = RunIndex(*store, root_.string(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : IndexReport();
  }

  // Current nodes: path -> kind.
  std::map<std::string, std::string> Nodes() {
    std::map<std::string, std::string> out;
    auto store = OpenStore();
    EXPECT_TRUE(store
                    ->ForEachNode([&](const Node& n) {
                      out[n.path] = std::string(KindName(n.kind));
                      return Status::OK();
                    })
                    .ok());
    return out;
  }

  // Current edges as "src -> dst" paths: the CONTAINS edges, or every other
  // kind with the kind in front ("IMPLEMENTS src -> dst").
  std::set<std::string> EdgesAsText(bool containment) {
    auto store = OpenStore();
    std::map<NodeId, std::string> ids;
    store->ForEachNode([&](const Node& n) {
      ids[n.id] = n.path;
      return Status::OK();
    });
    std::set<std::string> out;
    store->ForEachEdge([&](const Edge& e) {
      if ((e.kind == EdgeKind::kContains) != containment) return Status::OK();
      std::string text =
          (ids.count(e.src) ? ids[e.src] : "?") + " -> " + (ids.count(e.dst) ? ids[e.dst] : "?");
      out.insert(containment ? text : std::string(KindName(e.kind)) + " " + text);
      return Status::OK();
    });
    return out;
  }
  std::set<std::string> Contains() { return EdgesAsText(true); }
  std::set<std::string> Resolved() { return EdgesAsText(false); }

  int64_t TotalNodeRows() {
    auto db = std::move(Database::Open(db_, true)).value();
    auto st = std::move(db->Prepare("SELECT count(*) FROM nodes")).value();
    EXPECT_TRUE(*st.Step());
    return st.Int(0);
  }

  void WriteDemoCrate() {
    Write("Cargo.toml", "[package]\nname = \"demo-crate\"\nversion = \"0.1.0\"\n");
    Write("src/lib.rs",
          "//! The demo crate.\n"
          "pub mod a;\n"
          "mod b;\n"
          "#[path = \"other/z_impl.rs\"]\n"
          "pub mod z;\n"
          "pub mod inner {\n"
          "    pub fn f() {}\n"
          "}\n"
          "pub fn top() -> u32 { 1 }\n");
    Write("src/a.rs",
          "pub struct Thing { pub size: usize }\nimpl Thing {\n    pub fn new() -> Self { Thing { "
          "size: 0 } }\n}\n");
    Write("src/b/mod.rs", "pub mod c;\npub fn in_b() {}\n");
    Write("src/b/c.rs", "pub fn g() {}\n");
    Write("src/other/z_impl.rs", "pub fn h() {}\n");
  }

  void WriteImplCrate() {
    Write("Cargo.toml",
          "[package]\nname = \"shapes\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
          "[dependencies]\nserde = \"1\"\n");
    Write("src/lib.rs",
          "use std::fmt;\n"
          "pub mod traits;\n"
          "pub mod kinds;\n"
          "pub use kinds::Circle as Round;\n"
          "#[derive(Debug, Clone, serde::Serialize)]\n"
          "pub struct X;\n"
          "impl fmt::Display for X {\n"
          "    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { Ok(()) }\n"
          "}\n"
          "impl X { pub fn new() -> X { X } }\n");
    Write("src/traits.rs",
          "pub trait Shape { fn area(&self) -> f64; }\n"
          "impl<T: Clone> Shape for T { fn area(&self) -> f64 { 0.0 } }\n");
    Write("src/kinds.rs",
          "use crate::traits::Shape;\n"
          "pub struct Circle;\n"
          "pub struct Square;\n"
          "impl Shape for Circle { fn area(&self) -> f64 { 1.0 } }\n"
          "impl Shape for crate::Round {}\n");
  }

  fs::path root_;
  std::string db_;
};

TEST_F(IndexerTest, BuildsTheModuleTreeWithCanonicalPaths) {
  WriteDemoCrate();
  IndexReport r = Index();
  EXPECT_EQ(r.crates, 1);
  EXPECT_EQ(r.files_parsed, 5);
  ASSERT_TRUE(r.version.has_value());
  auto nodes = Nodes();
  EXPECT_EQ(nodes["demo_crate"], "crate");
  EXPECT_EQ(nodes["demo_crate::a"], "module");
  EXPECT_EQ(nodes["demo_crate::a::Thing"], "struct");
  EXPECT_EQ(nodes["demo_crate::a::Thing::size"], "field");
  EXPECT_EQ(nodes["demo_crate::a::Thing::new"], "function");
  EXPECT_EQ(nodes["demo_crate::b::in_b"], "function");
  EXPECT_EQ(nodes["demo_crate::b::c::g"], "function");
  EXPECT_EQ(nodes["demo_crate::z::h"], "function");
  EXPECT_EQ(nodes["demo_crate::inner::f"], "function");
  EXPECT_EQ(nodes["demo_crate::top"], "function");
  EXPECT_THAT(Contains(), IsSupersetOf({
                              "demo_crate -> demo_crate::a",
                              "demo_crate::a -> demo_crate::a::Thing",
                              "demo_crate -> demo_crate::b",
                              "demo_crate::b -> demo_crate::b::c",
                              "demo_crate::b::c -> demo_crate::b::c::g",
                              "demo_crate::z -> demo_crate::z::h",
                              "demo_crate::inner -> demo_crate::inner::f",
                          }));
}

TEST_F(IndexerTest, ImplsAndDerivesBecomeResolvedEdges) {
  WriteImplCrate();
  Index();
  std::set<std::string> edges = Resolved();
  EXPECT_THAT(edges,
              IsSupersetOf({
                  // A local trait for a local type, across modules through `use`.
                  "IMPL_FOR shapes::kinds::impl Shape for Circle -> shapes::kinds::Circle",
                  "IMPLEMENTS shapes::kinds::impl Shape for Circle -> shapes::traits::Shape",
                  // Through a re-export path.
                  "IMPL_FOR shapes::kinds::impl Shape for crate::Round -> shapes::kinds::Circle",
                  // An external trait.
                  "IMPLEMENTS shapes::impl fmt::Display for X -> std::fmt::Display",
                  "IMPL_FOR shapes::impl fmt::Display for X -> shapes::X",
                  "IMPL_FOR shapes::impl X -> shapes::X",
                  // Derives.
                  "IMPLEMENTS shapes::X -> std::fmt::Debug",
                  "IMPLEMENTS shapes::X -> std::clone::Clone",
                  "IMPLEMENTS shapes::X -> serde::Serialize",
                  // A blanket impl implements, but is for no type.
                  "IMPLEMENTS shapes::traits::impl Shape for T -> shapes::traits::Shape",
              }));
  for (const std::string& e : edges) {
    if (e.rfind("HAS_GENERIC", 0) == 0) continue;  // the impl's own `T`
    EXPECT_THAT(e, Not(HasSubstr("impl Shape for T -> shapes::traits::impl"))) << e;
  }
  EXPECT_EQ(std::count_if(edges.begin(), edges.end(),
                          [](const std::string& e) {
                            return e.rfind("IMPL_FOR shapes::traits::impl Shape for T", 0) == 0;
                          }),
            0);
  auto nodes = Nodes();
  EXPECT_EQ(nodes["std::fmt::Display"], "external");
  EXPECT_EQ(nodes["serde::Serialize"], "external");
  // External nodes belong to the crate's pseudo file.
  auto store = OpenStore();
  auto found = store->FindNodes("std::fmt::Display", 10);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].file, "#external");
  EXPECT_EQ((*found)[0].id, MakeNodeId("shapes", "std::fmt::Display", NodeKind::kExternal, 0));
}

// Rust 2015 (no `edition` key): `use` paths start at the crate root, as in
// serde 1.0; and a Cargo dependency named `core` (the rustc-std-workspace
// shim of hashbrown and memchr) does not hide the real core.
TEST_F(IndexerTest, Edition2015UsePathsAreCrateRelative) {
  Write("Cargo.toml",
        "[package]\nname = \"old\"\nversion = \"0.1.0\"\n"
        "[dependencies]\ncore = { version = \"1\", optional = true, package = "
        "\"rustc-std-workspace-core\" }\n");
  Write("src/lib.rs", "pub mod de;\npub mod impls;\n");
  Write("src/de.rs", "pub trait Deserialize {}\n");
  Write("src/impls.rs",
        "use de::Deserialize;\n"
        "use core::fmt;\n"
        "pub struct Path;\n"
        "impl Deserialize for Path {}\n"
        "impl fmt::Debug for Path {\n"
        "    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { Ok(()) }\n"
        "}\n");
  Index();
  std::set<std::string> edges = Resolved();
  EXPECT_THAT(edges,
              ::testing::Contains(
                  "IMPLEMENTS old::impls::impl Deserialize for Path -> old::de::Deserialize"));
  EXPECT_THAT(edges, ::testing::Contains(
                         "IMPLEMENTS old::impls::impl fmt::Debug for Path -> core::fmt::Debug"));
}

TEST_F(IndexerTest, EditingOneFileReResolvesTheCrate) {
  WriteImplCrate();
  Index();
  IndexReport again = Index();
  EXPECT_EQ(again.files_parsed, 0);
  EXPECT_FALSE(again.version.has_value());

  // Circle's impl moves to Square; Display becomes Debug by hand, X no longer
  // derives Clone. Only kinds.rs and lib.rs change.
  Write("src/kinds.rs",
        "use crate::traits::Shape;\n"
        "pub struct Circle;\n"
        "pub struct Square;\n"
        "impl Shape for Square { fn area(&self) -> f64 { 1.0 } }\n");
  IndexReport r = Index();
  EXPECT_EQ(r.files_parsed, 1);
  std::set<std::string> edges = Resolved();
  EXPECT_THAT(edges, ::testing::Contains("IMPL_FOR shapes::kinds::impl Shape for Square -> "
                                         "shapes::kinds::Square"));
  EXPECT_THAT(edges, Not(::testing::Contains("IMPL_FOR shapes::kinds::impl Shape for Circle -> "
                                             "shapes::kinds::Circle")));
  // Edges of unchanged files stay.
  EXPECT_THAT(edges, ::testing::Contains("IMPLEMENTS shapes::X -> std::fmt::Debug"));
  EXPECT_THAT(edges, ::testing::Contains(
                         "IMPLEMENTS shapes::impl fmt::Display for X -> std::fmt::Display"));

  // The trait moves: an unchanged file's impl now names something else.
  Write("src/traits.rs", "pub trait Area { fn area(&self) -> f64; }\npub use Area as Shape;\n");
  Write("src/lib.rs", "pub mod traits;\npub mod kinds;\n#[derive(Debug)]\npub struct X;\n");
  Index();
  edges = Resolved();
  EXPECT_THAT(edges, ::testing::Contains("IMPLEMENTS shapes::kinds::impl Shape for Square -> "
                                         "shapes::traits::Area"));
  EXPECT_THAT(edges, Not(::testing::Contains("IMPLEMENTS shapes::X -> std::clone::Clone")));
  auto nodes = Nodes();
  EXPECT_EQ(nodes.count("std::fmt::Display"), 0u);
  EXPECT_EQ(nodes.count("serde::Serialize"), 0u);
  EXPECT_EQ(nodes["std::fmt::Debug"], "external");
  EXPECT_EQ(Index().files_parsed, 0);
}

TEST_F(IndexerTest, ReindexingAnUnchangedTreeParsesAndWritesNothing) {
  WriteDemoCrate();
  Index();
  int64_t rows = TotalNodeRows();
  IndexReport again = Index();
  EXPECT_EQ(again.files_parsed, 0);
  EXPECT_EQ(again.files_unchanged, 5);
  EXPECT_FALSE(again.version.has_value());
  EXPECT_TRUE(again.delta.empty());
  EXPECT_EQ(TotalNodeRows(), rows);
  EXPECT_EQ(OpenStore()->Stats()->versions, 1);
}

TEST_F(IndexerTest, EditingOneFunctionChangesOnlyThatNode) {
  WriteDemoCrate();
  Index();
  Write("src/b/c.rs", "pub fn g() { let _x = 1; }\n");
  IndexReport r = Index();
  EXPECT_EQ(r.files_parsed, 1);
  ASSERT_TRUE(r.version.has_value());
  EXPECT_EQ(r.delta.nodes_changed, 1);
  EXPECT_EQ(r.delta.nodes_added, 0);
  EXPECT_EQ(r.delta.nodes_removed, 0);
  EXPECT_EQ(OpenStore()->Stats()->versions, 2);
}

TEST_F(IndexerTest, DeletingAFileClosesItsNodes) {
  WriteDemoCrate();
  Index();
  Write("src/b/mod.rs", "pub fn in_b() {}\n");  // drops `mod c;`
  fs::remove(root_ / "src/b/c.rs");
  IndexReport r = Index();
  auto nodes = Nodes();
  EXPECT_EQ(nodes.count("demo_crate::b::c"), 0u);
  EXPECT_EQ(nodes.count("demo_crate::b::c::g"), 0u);
  EXPECT_EQ(r.delta.files_removed, 1);
  EXPECT_GE(r.delta.nodes_removed, 2);
}

TEST_F(IndexerTest, RenamingAModuleRepathsItsUnchangedFile) {
  WriteDemoCrate();
  Index();
  // c.rs keeps its bytes, but is now reached as module `renamed`.
  Write("src/b/mod.rs", "#[path = \"c.rs\"]\npub mod renamed;\npub fn in_b() {}\n");
  Index();
  auto nodes = Nodes();
  EXPECT_EQ(nodes.count("demo_crate::b::c::g"), 0u);
  EXPECT_EQ(nodes["demo_crate::b::renamed::g"], "function");
}

TEST_F(IndexerTest, IndexesEveryMemberOfAWorkspace) {
  Write("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
  Write("crates/alpha-one/Cargo.toml", "[package]\nname = \"alpha-one\"\nversion = \"0.1.0\"\n");
  Write("crates/alpha-one/src/lib.rs", "pub fn alpha() {}\n");
  Write("crates/beta/Cargo.toml", "[package]\nname = \"beta\"\nversion = \"0.1.0\"\n");
  Write("crates/beta/src/main.rs", "fn main() {}\n");
  IndexReport r = Index();
  EXPECT_EQ(r.crates, 2);
  auto nodes = Nodes();
  EXPECT_EQ(nodes["alpha_one::alpha"], "function");
  EXPECT_EQ(nodes["beta::main"], "function");
}

// Workspace crates resolve into each other's items through their Cargo
// dependencies (renamed ones included), whichever crate the walk meets first,
// and the same edges come out when only the dependent crate changed (the
// unchanged dependency is linked from its files without being written).
TEST_F(IndexerTest, WorkspaceCratesResolveIntoTheirDependencies) {
  Write("Cargo.toml", "[workspace]\nmembers = [\"app\", \"zbase\"]\n");
  Write("app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n"
        "[dependencies]\ncore_lib = { path = \"../zbase\", package = \"zbase\" }\n");
  Write("app/src/lib.rs",
        "use core_lib::Engine;\n"
        "pub struct Mine;\n"
        "impl core_lib::Plugin for Mine {}\n"
        "pub fn start() { let e = Engine::new(); e.run(); core_lib::helper(); }\n");
  Write("zbase/Cargo.toml", "[package]\nname = \"zbase\"\nversion = \"0.1.0\"\n");
  Write("zbase/src/lib.rs",
        "mod engine;\npub use engine::Engine;\npub trait Plugin {}\npub fn helper() {}\n");
  Write("zbase/src/engine.rs",
        "pub struct Engine;\nimpl Engine {\n    pub fn new() -> Engine { Engine }\n"
        "    pub fn run(&self) {}\n}\n");
  Index();
  const std::vector<std::string> expected = {
      "CALLS app::start -> zbase::engine::Engine::new",
      "CALLS app::start -> zbase::engine::Engine::run",
      "CALLS app::start -> zbase::helper",
      "IMPLEMENTS app::impl core_lib::Plugin for Mine -> zbase::Plugin",
      "IMPORTS app::use core_lib::Engine -> zbase::engine::Engine",
  };
  std::set<std::string> first = Resolved();
  EXPECT_THAT(first, IsSupersetOf(expected));
  for (const std::string& e : first) EXPECT_THAT(e, Not(HasSubstr("-> core_lib::"))) << e;

  // Only app changes: zbase is unchanged and not rewritten, yet app's
  // edges into it are the same.
  Write("app/src/lib.rs",
        "use core_lib::Engine;\n"
        "pub struct Mine;\n"
        "impl core_lib::Plugin for Mine {}\n"
        "pub fn start() { let e = Engine::new(); e.run(); core_lib::helper(); }\n"
        "pub fn more() {}\n");
  IndexReport r = Index();
  EXPECT_EQ(r.files_parsed, 1);
  EXPECT_THAT(Resolved(), IsSupersetOf(expected));

  // Only zbase changes (`run` becomes `go`): app, unchanged, is resolved
  // again, so no edge of it points at the closed `run`.
  Write("zbase/src/engine.rs",
        "pub struct Engine;\nimpl Engine {\n    pub fn new() -> Engine { Engine }\n"
        "    pub fn go(&self) {}\n}\n");
  Index();
  std::set<std::string> after = Resolved();
  EXPECT_THAT(after, ::testing::Contains("CALLS app::start -> zbase::engine::Engine::new"));
  for (const std::string& e : after) EXPECT_THAT(e, Not(HasSubstr("Engine::run"))) << e;
  for (const std::string& e : after) EXPECT_THAT(e, Not(HasSubstr("-> ?"))) << e;
}

// Edges follow the linker that made them: an unchanged tree indexed first
// without resolution, then with it, gets its edges (and loses them again).
TEST_F(IndexerTest, SwitchingResolutionOnOrOffRelinksUnchangedCrates) {
  Write("Cargo.toml", "[package]\nname = \"sw\"\nversion = \"0.1.0\"\n");
  Write("src/lib.rs", "pub fn a() { b(); }\nfn b() {}\n");
  Index(/*resolve=*/false);
  EXPECT_THAT(Resolved(), Not(::testing::Contains("CALLS sw::a -> sw::b")));
  IndexReport r = Index(/*resolve=*/true);
  EXPECT_EQ(r.files_parsed, 0);  // the workers parsed nothing: unchanged
  EXPECT_THAT(Resolved(), ::testing::Contains("CALLS sw::a -> sw::b"));
  // Unchanged again, with the same linker: nothing is written.
  IndexReport same = Index(/*resolve=*/true);
  EXPECT_FALSE(same.version.has_value());
  Index(/*resolve=*/false);
  EXPECT_THAT(Resolved(), Not(::testing::Contains("CALLS sw::a -> sw::b")));
}

TEST_F(IndexerTest, PlainDirectoryIndexesEveryFileAsAModule) {
  Write("util.rs", "pub fn helper() {}\n");
  Write("deep/nested.rs", "pub struct Deep;\n");
  IndexReport r = Index();
  EXPECT_EQ(r.crates, 1);
  std::string crate = root_.filename().string();
  std::replace(crate.begin(), crate.end(), '-', '_');
  auto nodes = Nodes();
  EXPECT_EQ(nodes[crate + "::util::helper"], "function");
  EXPECT_EQ(nodes[crate + "::deep::nested::Deep"], "struct");
  EXPECT_EQ(nodes[crate + "::util"], "module");
}

TEST_F(IndexerTest, PlainDirectorySkipsIgnoredTargetAndHiddenPaths) {
  Write("keep.rs", "pub fn kept() {}\n");
  Write(".gitignore", "generated/\n");
  Write("generated/out.rs", "pub fn generated() {}\n");
  Write("target/debug/build.rs", "pub fn built() {}\n");
  Write(".hidden/h.rs", "pub fn hidden() {}\n");
  Index();
  std::string crate = root_.filename().string();
  auto nodes = Nodes();
  EXPECT_EQ(nodes[crate + "::keep::kept"], "function");
  for (const auto& [path, kind] : nodes) {
    EXPECT_EQ(path.find("generated"), std::string::npos) << path;
    EXPECT_EQ(path.find("built"), std::string::npos) << path;
    EXPECT_EQ(path.find("hidden"), std::string::npos) << path;
  }
}

TEST_F(IndexerTest, BadFilesAreReportedAndTheRestIsIndexed) {
  Write("Cargo.toml", "[package]\nname = \"bad\"\nversion = \"0.1.0\"\n");
  Write("src/lib.rs", "mod broken;\nmod latin1;\nmod missing;\npub fn fine() {}\n");
  Write("src/broken.rs", "pub fn ok_one() {}\nfn broken( {\npub fn ok_two() {}\n");
  Write("src/latin1.rs", "pub fn caf\xe9() {}\n");
  IndexReport r = Index();
  auto nodes = Nodes();
  EXPECT_EQ(nodes["bad::fine"], "function");
  EXPECT_EQ(nodes["bad::broken::ok_one"], "function");
  EXPECT_EQ(r.files_failed, 1);
  std::string all;
  for (const auto& w : r.warnings) all += w + "\n";
  EXPECT_THAT(all, HasSubstr("src/latin1.rs:1: skipped, not valid UTF-8"));
  EXPECT_THAT(all, HasSubstr("src/broken.rs:2"));
  EXPECT_THAT(all, HasSubstr("src/lib.rs:3: file for module `missing` not found"));
}

TEST_F(IndexerTest, SameModuleUnderOppositeCfgsGetsDistinctIds) {
  Write("Cargo.toml", "[package]\nname = \"twin\"\nversion = \"0.1.0\"\n");
  // As in regex's src/literal/mod.rs: a file module and an inline one.
  Write("src/lib.rs",
        "#[cfg(feature = \"perf\")]\nmod imp;\n"
        "#[cfg(not(feature = \"perf\"))]\nmod imp {\n    pub struct Searcher;\n}\n");
  Write("src/imp.rs", "pub struct Searcher { fast: bool }\n");
  Index();
  auto store = OpenStore();
  auto found = store->FindNodes("twin::imp::Searcher", 10);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_NE((*found)[0].id, (*found)[1].id);
  EXPECT_NE((*found)[0].parent, (*found)[1].parent);
}

TEST_F(IndexerTest, InnerCfgOfAFileAppliesToItsItems) {
  Write("Cargo.toml", "[package]\nname = \"inner\"\nversion = \"0.1.0\"\n");
  Write("src/lib.rs", "mod serde_impls;\n");
  Write("src/serde_impls.rs", "#![cfg(feature = \"serde\")]\npub fn ser() {}\n");
  Index();
  auto store = OpenStore();
  auto found = store->FindNodes("inner::serde_impls::ser", 10);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].cfgs, std::vector<std::string>{"feature = \"serde\""});
}

TEST_F(IndexerTest, MissingRootIsAnError) {
  auto store = OpenStore();
  auto r = RunIndex(*store, (root_ / "nope").string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope"));
}

TEST_F(IndexerTest, IdenticalFunctionsShareAContentHash) {
  Write("Cargo.toml", "[package]\nname = \"dup\"\nversion = \"0.1.0\"\n");
  Write("src/lib.rs", "mod x;\nmod y;\n");
  Write("src/x.rs", "pub fn same(a: u32) -> u32 { a + 1 }\n");
  Write("src/y.rs", "// a comment\npub fn same(a: u32)\n  -> u32 {\n    a + 1\n}\n");
  Index();
  auto store = OpenStore();
  auto x = store->FindNodes("dup::x::same", 5);
  auto y = store->FindNodes("dup::y::same", 5);
  ASSERT_EQ(x->size(), 1u);
  ASSERT_EQ(y->size(), 1u);
  EXPECT_EQ((*x)[0].content_hash, (*y)[0].content_hash);
  EXPECT_NE((*x)[0].id, (*y)[0].id);
}

}  // namespace
}  // namespace ferrograph
