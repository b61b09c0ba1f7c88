#include "ingest/extraction_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "hash/blake3_hasher.h"

namespace ferrograph {
namespace {

FileExtraction WithDocs(const std::string& docs) {
  FileExtraction e;
  e.module_docs = docs;
  return e;
}

TEST(ExtractionCacheTest, SharesTheExtractionByHash) {
  ExtractionCache cache(1000);
  ContentHash a = HashBytes("a"), b = HashBytes("b");
  auto put = std::make_shared<const FileExtraction>(WithDocs("first"));
  cache.Put(a, put, 10);
  std::shared_ptr<const FileExtraction> out = cache.Get(a);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->module_docs, "first");
  EXPECT_EQ(out.get(), put.get());  // shared, not copied
  EXPECT_EQ(cache.Get(a).get(), put.get());
  EXPECT_EQ(cache.Get(b), nullptr);
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(ExtractionCacheTest, EvictsLeastRecentlyUsedPastTheBudget) {
  ExtractionCache cache(100);
  ContentHash a = HashBytes("a"), b = HashBytes("b"), c = HashBytes("c");
  cache.Put(a, std::make_shared<const FileExtraction>(WithDocs("a")), 40);
  cache.Put(b, std::make_shared<const FileExtraction>(WithDocs("b")), 40);
  ASSERT_NE(cache.Get(a), nullptr);  // a is now the most recent
  cache.Put(c, std::make_shared<const FileExtraction>(WithDocs("c")), 40);  // 120 > 100: b goes
  EXPECT_NE(cache.Get(a), nullptr);
  EXPECT_EQ(cache.Get(b), nullptr);
  EXPECT_NE(cache.Get(c), nullptr);
  cache.Put(HashBytes("huge"), std::make_shared<const FileExtraction>(WithDocs("huge")),
            101);  // larger than the budget: not kept
  EXPECT_EQ(cache.Get(HashBytes("huge")), nullptr);
  EXPECT_NE(cache.Get(c), nullptr);
  // What a consumer holds outlives its eviction.
  std::shared_ptr<const FileExtraction> held = cache.Get(c);
  cache.Put(HashBytes("d"), std::make_shared<const FileExtraction>(WithDocs("d")), 40);
  cache.Put(HashBytes("e"), std::make_shared<const FileExtraction>(WithDocs("e")), 40);
  cache.Put(HashBytes("f"), std::make_shared<const FileExtraction>(WithDocs("f")), 40);
  EXPECT_EQ(cache.Get(c), nullptr);
  EXPECT_EQ(held->module_docs, "c");
}

TEST(ExtractionCacheTest, KeptLinksStayWithinTheirBudgetAndVersion) {
  ExtractionCache cache(1000, /*link_budget_bytes=*/100);
  uint64_t run = 0;
  EXPECT_TRUE(cache.TakeLinks(&run).empty());
  EXPECT_EQ(run, 1u);
  KeptLinks links;
  links["a"] = KeptLink{nullptr, 60, 1};
  links["b"] = KeptLink{nullptr, 60, 2};  // most recently used
  links["c"] = KeptLink{nullptr, 30, 0};
  cache.Committed({}, {}, /*version=*/5, std::move(links));
  EXPECT_EQ(cache.kept_links(), 2u);  // b, then c fits; a does not
  KeptLinks taken = cache.TakeLinks(&run);
  EXPECT_EQ(run, 2u);
  EXPECT_EQ(taken.size(), 2u);
  EXPECT_TRUE(taken.count("b") && taken.count("c"));
  EXPECT_EQ(cache.kept_links(), 0u);  // the run holds them now
  // Handed back, then another writer's version: forgotten.
  cache.Committed({}, {}, 6, std::move(taken));
  cache.CheckVersion(6);
  EXPECT_EQ(cache.kept_links(), 2u);
  cache.CheckVersion(7);
  EXPECT_EQ(cache.kept_links(), 0u);
}

TEST(ExtractionCacheTest, KeptTreesAreTakenOnceAndStayWithinTheirBudget) {
  ExtractionCache cache(1000, 1000, /*tree_budget_bytes=*/100);
  RustParser parser;
  auto keep = [&](const std::string& path, const std::string& text) {
    auto tree = parser.Parse(text);
    ASSERT_TRUE(tree.ok());
    cache.KeepTree(path, ExtractionCache::KeptTree{text, std::move(*tree),
                                                   std::make_shared<const FileExtraction>()});
  };
  const std::string a = "fn a() {}" + std::string(41, ' ');  // 50 bytes
  keep("/w/a.rs", a);
  keep("/w/b.rs", a);
  EXPECT_EQ(cache.kept_trees(), 2u);
  keep("/w/c.rs", a);  // past the budget: a.rs, the least recent, goes
  EXPECT_EQ(cache.kept_trees(), 2u);
  EXPECT_FALSE(cache.TakeTree("/w/a.rs").has_value());
  std::optional<ExtractionCache::KeptTree> b = cache.TakeTree("/w/b.rs");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->source, a);
  EXPECT_TRUE(b->tree.valid());
  EXPECT_FALSE(cache.TakeTree("/w/b.rs").has_value());  // taken
  keep("/w/big.rs", std::string(101, ' '));             // larger than the budget
  EXPECT_FALSE(cache.TakeTree("/w/big.rs").has_value());
  EXPECT_EQ(cache.kept_trees(), 1u);
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ExtractionCacheTest, KnownHashesNeedAnUnchangedAndSettledStat) {
  namespace fs = std::filesystem;
  const fs::path file =
      fs::path(testing::TempDir()) / ("known_hash_" + std::to_string(getpid()) + ".rs");
  std::ofstream(file) << "fn a() {}\n";
  ExtractionCache cache;
  const ContentHash hash = HashBytes("fn a() {}\n");
  std::optional<ExtractionCache::FileStat> st = ExtractionCache::StatFile(file.string());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->size, 10u);
  EXPECT_FALSE(ExtractionCache::StatFile((file.string() + ".missing")).has_value());
  EXPECT_FALSE(ExtractionCache::StatFile(testing::TempDir()).has_value());  // a directory

  // Written just now: a write in the same tick would not show; not trusted.
  cache.RememberHash(file.string(), *st, hash, NowNanos());
  EXPECT_FALSE(cache.KnownHash(file.string(), *st).has_value());
  // Read well after its last change: trusted while the stat stays.
  cache.RememberHash(file.string(), *st, hash, NowNanos() + 3 * ExtractionCache::kStableNanos);
  ASSERT_TRUE(cache.KnownHash(file.string(), *st).has_value());
  EXPECT_EQ(*cache.KnownHash(file.string(), *st), hash);
  // Rewritten with bytes of the same size (and its mtime put back): the
  // change time still differs.
  struct stat before;
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  usleep(20000);
  std::ofstream(file, std::ios::trunc) << "fn b() {}\n";
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  std::optional<ExtractionCache::FileStat> now = ExtractionCache::StatFile(file.string());
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->size, st->size);
  EXPECT_EQ(now->mtime_ns, st->mtime_ns);
  EXPECT_FALSE(cache.KnownHash(file.string(), *now).has_value());
  fs::remove(file);
}

}  // namespace
}  // namespace ferrograph
