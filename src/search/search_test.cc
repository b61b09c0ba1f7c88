#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include "embed/embedder.h"
#include "hash/blake3_hasher.h"
#include "search/search_index.h"
#include "search/searcher.h"
#include "store/store.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A little crate written straight into the store: items with real spans
// of one file, and a CALLS edge.
class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) /
           ("search_test_" +
            std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "graph.db").string();
    auto s = Store::Open(db_, Store::Options());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  struct Item {
    std::string path;
    NodeKind kind;
    std::string docs;
    std::string source;
  };

  // Writes `items` as one file of crate "demo" (one version), with CALLS
  // edges from->to, then updates the search indexes with `specs`.
  void Write(const std::vector<Item>& items,
             const std::vector<std::pair<std::string, std::string>>& calls,
             const std::vector<std::string>& specs = {"hash"},
             const std::string& file = "src/lib.rs") {
    FileUpdate u;
    u.file.crate_key = "demo";
    u.file.path = file;
    u.file.module_path = "demo";
    u.file.like_mod_rs = true;
    u.file.mods_json = "[]";
    Node crate;
    crate.kind = NodeKind::kCrate;
    crate.path = crate.name = crate.crate_name = "demo";
    crate.file = file;
    crate.id = MakeNodeId("demo", "demo", NodeKind::kCrate, 0);
    crate.content_hash = HashBytes("crate");
    u.nodes.push_back(crate);
    uint32_t line = 1;
    for (const Item& it : items) {
      Node n;
      n.kind = it.kind;
      n.path = it.path;
      n.name = it.path.substr(it.path.rfind(':') + 1);
      n.crate_name = "demo";
      n.file = file;
      n.id = MakeNodeId("demo", it.path, it.kind, 0);
      n.parent = crate.id;
      n.docs = it.docs;
      n.span.start_byte = static_cast<uint32_t>(u.text.size());
      u.text += it.source;
      n.span.end_byte = static_cast<uint32_t>(u.text.size());
      u.text += "\n";
      n.span.start_line = n.span.end_line = line++;
      n.signature = it.source.substr(0, it.source.find('{'));
      n.content_hash = HashBytes(it.docs + "|" + it.source);
      if (auto adjust = adjust_.find(it.path); adjust != adjust_.end()) adjust->second(n);
      ids_[it.path] = n.id;
      u.nodes.push_back(n);
    }
    for (const auto& [from, to] : calls) {
      Edge e;
      e.kind = EdgeKind::kCalls;
      e.src = ids_.at(from);
      e.dst = ids_.at(to);
      e.file = file;
      e.line = 1;
      u.edges.push_back(e);
    }
    u.file.hash = HashBytes(u.text);
    u.file.size = u.text.size();
    auto txn = store_->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->ApplyFile(u).ok());
    ASSERT_TRUE((*txn)->Commit("{}").ok());
    std::vector<EmbedderSpec> parsed;
    for (const std::string& s : specs) {
      auto spec = ParseEmbedderSpec(s);
      ASSERT_TRUE(spec.ok()) << spec.status().ToString();
      parsed.push_back(*spec);
    }
    auto r = UpdateSearchIndex(*store_, db_, parsed, 2);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    report_ = *r;
  }

  std::vector<std::string> Paths(const SearchResponse& r) {
    std::vector<std::string> out;
    for (const SearchHit& h : r.results) out.push_back(h.node.path);
    return out;
  }

  SearchResponse SearchOrDie(const SearchRequest& req, const std::vector<NodeId>* nodes = nullptr) {
    Searcher searcher(*store_, db_, true);
    auto r = searcher.Search(req, nodes);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SearchResponse();
  }

  static std::vector<Item> Corpus() {
    return {
        {"demo::parse_unicode_class", NodeKind::kFunction, "Parses a Unicode class such as \\pL.",
         "fn parse_unicode_class(&mut self) -> Result<ClassUnicode> { self.bump(); todo!() }"},
        {"demo::compile_program", NodeKind::kFunction, "Compiles the regex into a program.",
         "fn compile_program(expr: &Hir) -> Program { let mut c = Compiler::new(); c.emit(expr) }"},
        {"demo::Compiler", NodeKind::kStruct, "The bytecode compiler.",
         "struct Compiler { insts: Vec<Inst>, size_limit: usize }"},
        {"demo::read_config_file", NodeKind::kFunction, "Loads settings from a TOML file on disk.",
         "fn read_config_file(path: &Path) -> io::Result<Config> { fs::read_to_string(path) }"},
        {"demo::emit_instruction", NodeKind::kFunction, "",
         "fn emit_instruction(insts: &mut Vec<Inst>, inst: Inst) { insts.push(inst) }"},
    };
  }

  fs::path dir_;
  std::string db_;
  std::unique_ptr<Store> store_;
  std::map<std::string, NodeId> ids_;
  // Changes to an item's node before it is written (cfgs, attributes, parent).
  std::map<std::string, std::function<void(Node&)>> adjust_;
  SearchIndexReport report_;
};

TEST(LexicalQueryWords, DropsStopWordsAndRepeats) {
  using W = std::vector<std::string>;
  EXPECT_EQ(LexicalQueryWords("parse the Unicode class"), (W{"parse", "unicode", "class"}));
  EXPECT_EQ(LexicalQueryWords("HashMap"), (W{"hashmap", "hash", "map"}));
  EXPECT_EQ(LexicalQueryWords("map a map"), (W{"map"}));
  EXPECT_EQ(LexicalQueryWords("the of a"), W{});
}

TEST(LexicalIdentifiers, SplitsMultiPartIdentifiers) {
  EXPECT_EQ(LexicalIdentifiers("parse_unicode_class", "fn parse_unicode_class() -> ClassUnicode"),
            "parse unicode class parse unicode class class unicode");
  EXPECT_EQ(LexicalIdentifiers("new", "fn new()"), "");
}

TEST_F(SearchTest, LexicalFindsSplitIdentifiersAndStems) {
  Write(Corpus(), {});
  SearchRequest req;
  req.query = "parsing unicode classes";
  req.mode = SearchMode::kLexical;
  SearchResponse r = SearchOrDie(req);
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results[0].node.path, "demo::parse_unicode_class");
  EXPECT_THAT(r.results[0].why[0], HasSubstr("lexical #1"));
  EXPECT_TRUE(r.model_id.empty());
}

// The lexical ranking skips rows that cannot reach the top (MaxScore); its
// answers must equal FTS5's own bm25() over every matching row. A corpus
// with a Zipf-like vocabulary puts frequent words in most rows (so that
// pruning happens) and rare ones in few; consonant-only words pass the
// porter stemmer unchanged, so each is its own index term.
TEST_F(SearchTest, LexicalTopKEqualsBm25OverEveryMatch) {
  std::mt19937 rng(7);
  std::vector<std::string> vocab;
  const std::string consonants = "bcdfghjklmnpqrtvwxz";
  while (vocab.size() < 400) {
    std::string w;
    for (size_t n = 3 + rng() % 3; w.size() < n;) w += consonants[rng() % consonants.size()];
    if (std::find(vocab.begin(), vocab.end(), w) == vocab.end()) vocab.push_back(w);
  }
  // Word i is drawn with weight 1 / (i + 1).
  std::vector<double> weights;
  for (size_t i = 0; i < vocab.size(); ++i) weights.push_back(1.0 / static_cast<double>(i + 1));
  std::discrete_distribution<size_t> zipf(weights.begin(), weights.end());
  auto words = [&](size_t n, const char* sep) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (i ? sep : "") + vocab[zipf(rng)];
    return out;
  };
  std::vector<Item> items;
  for (int i = 0; i < 12000; ++i) {
    std::string name = words(1 + rng() % 3, "_");
    items.push_back({"demo::m" + std::to_string(i % 50) + "::" + name + "_" + std::to_string(i),
                     NodeKind::kFunction, words(2 + rng() % 14, " ") + ".",
                     "fn " + name + "(x: " + words(1, "") + ") { " + words(3, "()") + "() }"});
  }
  Write(items, {}, {});

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> ref_db(raw, &sqlite3_close);
  // FTS5's bm25() over every row holding any of `q`, best first (by path on ties).
  auto reference = [&](const std::vector<std::string>& q) {
    std::string match;
    for (const std::string& w : q) match += (match.empty() ? "\"" : " OR \"") + w + "\"";
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw,
                                 "SELECT n.path, -bm25(lexical, 10.0, 2.0, 3.0, 1.0, 4.0) AS s "
                                 "FROM lexical JOIN nodes n ON n.rowid = lexical.rowid "
                                 "WHERE lexical MATCH ?1 ORDER BY s DESC, n.path",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(st, 1, match.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::pair<std::string, double>> out;
    while (sqlite3_step(st) == SQLITE_ROW)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                       sqlite3_column_double(st, 1));
    sqlite3_finalize(st);
    return out;
  };

  int pruned_queries = 0;
  for (int qi = 0; qi < 60; ++qi) {
    // A few frequent words and a few from the long tail.
    std::vector<std::string> q;
    for (size_t n = 2 + rng() % 6; q.size() < n;) {
      std::string w = qi % 3 == 0 ? vocab[rng() % vocab.size()] : vocab[zipf(rng)];
      if (std::find(q.begin(), q.end(), w) == q.end()) q.push_back(w);
    }
    const int limit = 50;
    auto want = reference(q);
    std::map<std::string, double> want_score(want.begin(), want.end());
    // The default first round, and a first round of the rarest word alone
    // (so that most queries need more rounds); in the second half, with
    // every row's token count read in one scan of FTS5's docsize records.
    if (qi == 30) {
      ASSERT_TRUE(store_->WarmLexicalSearch().ok());
    }
    for (int64_t essential_rows : {int64_t{4096}, int64_t{1}}) {
      SCOPED_TRACE(::testing::PrintToString(q) + " from " + std::to_string(essential_rows));
      auto got = store_->LexicalSearch(q, NodeFilter(), limit, essential_rows);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), std::min<size_t>(limit, want.size()));
      for (size_t i = 0; i < got->size(); ++i) {
        // The same scores in the same order, each the node's own bm25().
        EXPECT_NEAR((*got)[i].score, want[i].second, 1e-9 * std::abs(want[i].second)) << i;
        ASSERT_TRUE(want_score.count((*got)[i].node.path)) << (*got)[i].node.path;
        EXPECT_NEAR((*got)[i].score, want_score[(*got)[i].node.path], 1e-9) << (*got)[i].node.path;
      }
    }
    if (want.size() > 4096) ++pruned_queries;
  }
  // Most queries match far more rows than the ranking starts from.
  EXPECT_GT(pruned_queries, 20);
}

// A Store keeps the token counts of lexical rows by rowid between
// searches. After gc empties the lexical index, a rowid can come back for
// other content: the counts must be read again.
TEST_F(SearchTest, LexicalScoresStayExactWhenGcReusesRowids) {
  auto bm25 = [&](const std::string& match) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw,
                       "SELECT n.path, -bm25(lexical, 10.0, 2.0, 3.0, 1.0, 4.0) FROM lexical "
                       "JOIN nodes n ON n.rowid = lexical.rowid WHERE lexical MATCH ?1",
                       -1, &st, nullptr);
    sqlite3_bind_text(st, 1, match.c_str(), -1, SQLITE_TRANSIENT);
    std::map<std::string, double> out;
    while (sqlite3_step(st) == SQLITE_ROW)
      out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] = sqlite3_column_double(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return out;
  };
  auto check = [&](const std::string& word) {
    auto got = store_->LexicalSearch({word}, NodeFilter(), 100);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto want = bm25("\"" + word + "\"");
    ASSERT_EQ(got->size(), want.size());
    for (const ScoredNode& s : *got) EXPECT_NEAR(s.score, want[s.node.path], 1e-9) << s.node.path;
  };
  Write(Corpus(), {}, {});
  // src/extra.rs: the highest rowids, with long docs (many tokens).
  std::string many;
  for (int i = 0; i < 40; ++i) many += " filler words for a long row";
  Write({{"demo::extra::zeta", NodeKind::kFunction, "zeta" + many, "fn zeta() {}"},
         {"demo::extra::eta", NodeKind::kFunction, "zeta" + many, "fn eta() {}"}},
        {}, {}, "src/extra.rs");
  check("zeta");  // the counts of those rows are kept now
  {
    auto txn = store_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->RemoveFile("demo", "src/extra.rs").ok());
    ASSERT_TRUE((*txn)->Commit("{}").ok());
  }
  auto versions = store_->Versions();
  ASSERT_TRUE(versions.ok());
  ASSERT_TRUE(store_->DropVersionsBefore(versions->back().ordinal).ok());
  // New short rows take the freed rowids.
  Write({{"demo::other::zeta", NodeKind::kFunction, "zeta", "fn zeta() {}"},
         {"demo::other::theta", NodeKind::kFunction, "zeta", "fn theta() {}"}},
        {}, {}, "src/other.rs");
  check("zeta");
}

TEST_F(SearchTest, VectorSearchRanksByMeaningOfSubTokens) {
  Write(Corpus(), {});
  ASSERT_EQ(report_.models.size(), 1u);
  EXPECT_EQ(report_.models[0].embedded, 5);
  SearchRequest req;
  req.query = "config file";
  req.mode = SearchMode::kVector;
  SearchResponse r = SearchOrDie(req);
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results[0].node.path, "demo::read_config_file");
  EXPECT_EQ(r.model_id, "hash-v2-384");
  EXPECT_THAT(r.results[0].why[0], HasSubstr("vector #1"));
}

TEST_F(SearchTest, VectorHitsThatShareNoFeatureAreDropped) {
  // One small item: "zzqx" hashes to none of its features (checked by the
  // first expectation; a change of the feature hash would show there), so
  // every vector is at similarity 0 from it, and nearest is not near.
  Write({{"demo::alpha", NodeKind::kFunction, "", "fn alpha() {}"}}, {});
  SearchRequest req;
  req.query = "alpha";
  req.mode = SearchMode::kVector;
  EXPECT_THAT(Paths(SearchOrDie(req)), ::testing::ElementsAre("demo::alpha"));
  req.query = "zzqx";
  for (SearchMode mode : {SearchMode::kVector, SearchMode::kHybrid}) {
    req.mode = mode;
    EXPECT_THAT(Paths(SearchOrDie(req)), ::testing::IsEmpty()) << SearchModeName(mode);
  }
}

TEST_F(SearchTest, IdenticalContentIsEmbeddedOnceAndNotAgain) {
  std::vector<Item> items = Corpus();
  items.push_back({"demo::copy_of_emit", NodeKind::kFunction, "", items[4].source});
  // Same docs and source as emit_instruction: one content hash.
  items.back().source = items[4].source;
  items.back().path = "demo::inner::emit_instruction";
  Write(items, {});
  EXPECT_EQ(report_.models[0].embedded, 5);
  auto again = UpdateSearchIndex(*store_, db_, {*ParseEmbedderSpec("hash")}, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->models[0].embedded, 0);
  EXPECT_EQ(again->models[0].sidecar, "fresh");
  // The stages a progress display shows, in order: with nothing to embed and
  // a fresh sidecar, the lexical index only; a missing sidecar is rebuilt.
  std::vector<std::string> stages;
  auto note = [&](const std::string& stage, uint64_t done, uint64_t total) {
    EXPECT_LE(done, total) << stage;
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  };
  ASSERT_TRUE(UpdateSearchIndex(*store_, db_, {*ParseEmbedderSpec("hash")}, 1, note).ok());
  EXPECT_THAT(stages, ::testing::ElementsAre("lexical index"));
  fs::remove(VectorIndexPath(db_, "hash-v2-384"));
  stages.clear();
  ASSERT_TRUE(UpdateSearchIndex(*store_, db_, {*ParseEmbedderSpec("hash")}, 1, note).ok());
  EXPECT_THAT(stages, ::testing::ElementsAre("lexical index", "vector index of hash-v2-384"));
  // Both nodes come back for the one vector.
  SearchRequest req;
  req.query = "emit instruction push";
  req.mode = SearchMode::kVector;
  req.k = 2;
  EXPECT_THAT(
      Paths(SearchOrDie(req)),
      ::testing::UnorderedElementsAre("demo::emit_instruction", "demo::inner::emit_instruction"));
}

TEST_F(SearchTest, FiltersByKindPathAndNodeSet) {
  Write(Corpus(), {});
  SearchRequest req;
  req.query = "compiler program instructions";
  req.kinds = {NodeKind::kStruct};
  SearchResponse r = SearchOrDie(req);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].node.path, "demo::Compiler");
  EXPECT_THAT(r.vector_strategy, HasSubstr("exact"));

  req.kinds.clear();
  req.path_prefix = "demo::read_config_file";
  EXPECT_THAT(Paths(SearchOrDie(req)), ::testing::ElementsAre("demo::read_config_file"));

  req.path_prefix.clear();
  std::vector<NodeId> only = {ids_.at("demo::emit_instruction")};
  EXPECT_THAT(Paths(SearchOrDie(req, &only)), ::testing::ElementsAre("demo::emit_instruction"));
}

TEST_F(SearchTest, HybridFusesBothListsAndBoostsGraphNeighbours) {
  Write(Corpus(), {{"demo::compile_program", "demo::emit_instruction"}});
  SearchRequest req;
  req.query = "compile the regex";
  SearchResponse r = SearchOrDie(req);
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results[0].node.path, "demo::compile_program");
  bool both = false;
  for (const std::string& w : r.results[0].why) both |= w.find("lexical") != std::string::npos;
  EXPECT_TRUE(both);
  // emit_instruction shares no word with the query: only the call from the
  // top hit brings it in, and the result says so.
  bool linked = false;
  for (const SearchHit& h : r.results)
    if (h.node.path == "demo::emit_instruction")
      for (const std::string& w : h.why)
        linked |= w.find("called by demo::compile_program") != std::string::npos;
  EXPECT_TRUE(linked);
}

TEST_F(SearchTest, TestCodeRanksBelowTheCodeItExercises) {
  std::vector<Item> items = Corpus();
  items.push_back({"demo::tests", NodeKind::kModule, "", "mod tests { }"});
  items.push_back({"demo::tests::compile_program_twice", NodeKind::kFunction, "",
                   "fn compile_program_twice() { compile_program(&h); compile_program(&h) }"});
  items.push_back({"demo::compile_program_bench", NodeKind::kFunction, "",
                   "fn compile_program_bench(b: &mut Bencher) { compile_program(&h) }"});
  items.push_back({"demo::compile_program_unix", NodeKind::kFunction, "",
                   "fn compile_program_unix() { compile_program(&h) }"});
  adjust_["demo::tests"] = [](Node& n) { n.cfgs = {"all(test, not(miri))"}; };
  adjust_["demo::tests::compile_program_twice"] = [this](Node& n) {
    n.parent = ids_.at("demo::tests");  // test code by its module's cfg
  };
  adjust_["demo::compile_program_bench"] = [](Node& n) { n.attrs = {"bench"}; };
  adjust_["demo::compile_program_unix"] = [](Node& n) { n.cfgs = {"any(test, unix)"}; };
  Write(items, {});
  auto rank = [&](const SearchResponse& r, const std::string& path) {
    for (size_t i = 0; i < r.results.size(); ++i)
      if (r.results[i].node.path == path) return static_cast<int>(i);
    return -1;
  };
  auto why = [&](const SearchResponse& r, const std::string& path) {
    std::string all;
    for (const SearchHit& h : r.results)
      if (h.node.path == path)
        for (const std::string& w : h.why) all += w + "; ";
    return all;
  };

  SearchRequest req;
  req.query = "compile the program twice";
  req.k = 20;
  // Included, the test that matches every word comes first.
  req.tests = TestCode::kInclude;
  SearchResponse included = SearchOrDie(req);
  EXPECT_LT(rank(included, "demo::tests::compile_program_twice"),
            rank(included, "demo::compile_program"));
  EXPECT_THAT(why(included, "demo::tests::compile_program_twice"),
              ::testing::Not(HasSubstr("test code")));

  // Demoted (the default): the code they exercise comes first, and the
  // result says why; code that also builds outside tests is not demoted.
  req.tests = TestCode::kDemote;
  SearchResponse demoted = SearchOrDie(req);
  const int real = rank(demoted, "demo::compile_program");
  ASSERT_GE(real, 0);
  EXPECT_GT(rank(demoted, "demo::tests::compile_program_twice"), real);
  EXPECT_GT(rank(demoted, "demo::compile_program_bench"), real);
  EXPECT_THAT(why(demoted, "demo::tests::compile_program_twice"),
              HasSubstr("test code, score x0.5 (#[cfg(all(test, not(miri)))] on demo::tests)"));
  EXPECT_THAT(why(demoted, "demo::compile_program_bench"),
              HasSubstr("(#[bench] on demo::compile_program_bench)"));
  EXPECT_THAT(why(demoted, "demo::compile_program_unix"), ::testing::Not(HasSubstr("test code")));
  // With k small, only the candidates that could reach the top are checked;
  // the answer is the first k of the same ranking.
  for (int k : {1, 2, 3}) {
    SearchRequest small = req;
    small.k = k;
    std::vector<std::string> want = Paths(demoted);
    want.resize(static_cast<size_t>(k));
    EXPECT_EQ(Paths(SearchOrDie(small)), want) << "k " << k;
  }

  // A query about tests, or one that names the test, keeps the test's rank.
  req.query = "compile the program twice in tests";
  SearchResponse about = SearchOrDie(req);
  EXPECT_EQ(rank(about, "demo::tests::compile_program_twice"), 0);
  EXPECT_THAT(why(about, "demo::tests::compile_program_twice"),
              ::testing::Not(HasSubstr("test code")));
  req.query = "compile_program_twice";
  EXPECT_EQ(rank(SearchOrDie(req), "demo::tests::compile_program_twice"), 0);

  // Excluded: gone, in every mode.
  req.query = "compile program";
  req.tests = TestCode::kExclude;
  for (SearchMode mode : {SearchMode::kHybrid, SearchMode::kLexical, SearchMode::kVector}) {
    req.mode = mode;
    SearchResponse r = SearchOrDie(req);
    EXPECT_EQ(rank(r, "demo::tests::compile_program_twice"), -1) << SearchModeName(mode);
    EXPECT_EQ(rank(r, "demo::compile_program_bench"), -1) << SearchModeName(mode);
    EXPECT_GE(rank(r, "demo::compile_program"), 0) << SearchModeName(mode);
  }
}

TEST_F(SearchTest, SidecarIsRebuiltWhenMissingOrCorrupt) {
  Write(Corpus(), {});
  auto model = store_->FindModel("hash-v2-384");
  ASSERT_TRUE(model.ok() && model->has_value());
  std::string path = VectorIndexPath(db_, "hash-v2-384");
  ASSERT_TRUE(fs::exists(path));
  std::string how;
  ASSERT_TRUE(SyncVectorIndex(*store_, **model, db_, true, &how).ok());
  EXPECT_EQ(how, "fresh");
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\x5a');
    f.put('\xa5');
  }
  auto idx = SyncVectorIndex(*store_, **model, db_, true, &how);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_THAT(how, HasSubstr("rebuilt"));
  EXPECT_EQ((*idx)->size(), 5u);
  ASSERT_TRUE(SyncVectorIndex(*store_, **model, db_, true, &how).ok());
  EXPECT_EQ(how, "fresh");
  fs::remove(path);
  ASSERT_TRUE(SyncVectorIndex(*store_, **model, db_, true, &how).ok());
  EXPECT_EQ(how, "rebuilt (missing)");
}

// Warm loads the configured model's vector index (rebuilding a missing
// sidecar, as a search would) into the searcher, so that the first search
// finds it loaded: with the sidecar gone again, that search neither fails nor
// rebuilds it.
TEST_F(SearchTest, WarmLoadsTheDefaultModelsVectorIndexBeforeTheFirstSearch) {
  Write(Corpus(), {});
  ASSERT_TRUE(store_->SetMeta("embedders", "[\"hash\"]").ok());
  const std::string path = VectorIndexPath(db_, "hash-v2-384");
  ASSERT_TRUE(fs::remove(path));
  Searcher searcher(*store_, db_, true);
  std::atomic<bool> stop{false};
  Status warmed = searcher.Warm(stop);
  ASSERT_TRUE(warmed.ok()) << warmed.ToString();
  EXPECT_TRUE(fs::exists(path)) << "the warm-up rebuilt the missing sidecar";
  ASSERT_TRUE(fs::remove(path));
  SearchRequest req;
  req.query = "tokenize the input";
  req.mode = SearchMode::kVector;
  auto r = searcher.Search(req, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->results.empty());
  EXPECT_FALSE(fs::exists(path)) << "the search loaded the index again";

  // Without a configured embedder (--embedder none), only the lexical side
  // is warmed.
  ASSERT_TRUE(store_->SetMeta("embedders", "[]").ok());
  Searcher lexical_only(*store_, db_, true);
  EXPECT_TRUE(lexical_only.Warm(stop).ok());
  EXPECT_FALSE(fs::exists(path));
}

// A database whose vectors are of an older version of the configured model
// (hash-v1 before hash-v2): hybrid search answers from its lexical half and
// says why; vector search, which has nothing else, fails naming the fix.
TEST_F(SearchTest, HybridWithoutVectorsOfTheConfiguredModelFallsBackToLexical) {
  Write(Corpus(), {});
  ASSERT_TRUE(store_->SetMeta("embedders", "[\"hash\"]").ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "UPDATE models SET model_id = 'hash-v1-384'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);
  SearchRequest req;
  req.query = "parse unicode class";
  SearchResponse r = SearchOrDie(req);
  EXPECT_THAT(r.warning, HasSubstr("vector search skipped"));
  EXPECT_THAT(r.warning, HasSubstr("no vectors of model hash-v2-384"));
  EXPECT_EQ(r.model_id, "");
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results[0].node.path, "demo::parse_unicode_class");

  req.mode = SearchMode::kVector;
  Searcher searcher(*store_, db_, true);
  auto vector_only = searcher.Search(req, nullptr);
  ASSERT_FALSE(vector_only.ok());
  EXPECT_EQ(vector_only.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(vector_only.status().message(), HasSubstr("ferrograph index"));
}

TEST_F(SearchTest, GcDropsVectorsOfUnconfiguredModelsAndOrphanContent) {
  Write(Corpus(), {});
  auto before = store_->VectorState(store_->FindModel("hash-v2-384")->value().key);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->count, 5);
  auto kept = store_->CollectGarbage({"hash-v2-384"});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->vectors_removed, 0);
  auto dropped = store_->CollectGarbage({});
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->vectors_removed, 5);
  EXPECT_EQ(dropped->models_removed, 1);
}

TEST_F(SearchTest, BadQueriesAreClearErrors) {
  Write(Corpus(), {});
  Searcher searcher(*store_, db_, true);
  SearchRequest req;
  req.query = "   ";
  auto r = searcher.Search(req, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));
  req.query = "x";
  req.k = 0;
  EXPECT_FALSE(searcher.Search(req, nullptr).ok());
  req.k = 5;
  req.kinds = {NodeKind::kUse};
  EXPECT_FALSE(searcher.Search(req, nullptr).ok());
  // Punctuation and FTS5 syntax in a query are words, not syntax.
  req.kinds.clear();
  req.query = "\"unbalanced AND ( NEAR* ";
  EXPECT_TRUE(searcher.Search(req, nullptr).ok());
}

}  // namespace
}  // namespace ferrograph
