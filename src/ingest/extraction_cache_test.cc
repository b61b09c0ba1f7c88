#include "ingest/extraction_cache.h"

#include <gtest/gtest.h>

#include "hash/blake3_hasher.h"

namespace ferrograph {
namespace {

FileExtraction WithDocs(const std::string& docs) {
  FileExtraction e;
  e.module_docs = docs;
  return e;
}

TEST(ExtractionCacheTest, GivesCopiesByHash) {
  ExtractionCache cache(1000);
  ContentHash a = HashBytes("a"), b = HashBytes("b");
  cache.Put(a, WithDocs("first"), 10);
  FileExtraction out;
  ASSERT_TRUE(cache.Get(a, &out));
  EXPECT_EQ(out.module_docs, "first");
  out.module_docs = "changed by the consumer";
  FileExtraction again;
  ASSERT_TRUE(cache.Get(a, &again));
  EXPECT_EQ(again.module_docs, "first");
  EXPECT_FALSE(cache.Get(b, &out));
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(ExtractionCacheTest, EvictsLeastRecentlyUsedPastTheBudget) {
  ExtractionCache cache(100);
  ContentHash a = HashBytes("a"), b = HashBytes("b"), c = HashBytes("c");
  cache.Put(a, WithDocs("a"), 40);
  cache.Put(b, WithDocs("b"), 40);
  FileExtraction out;
  ASSERT_TRUE(cache.Get(a, &out));  // a is now the most recent
  cache.Put(c, WithDocs("c"), 40);  // 120 > 100: b goes
  EXPECT_TRUE(cache.Get(a, &out));
  EXPECT_FALSE(cache.Get(b, &out));
  EXPECT_TRUE(cache.Get(c, &out));
  cache.Put(HashBytes("huge"), WithDocs("huge"), 101);  // larger than the budget: not kept
  EXPECT_FALSE(cache.Get(HashBytes("huge"), &out));
  EXPECT_TRUE(cache.Get(c, &out));
}

}  // namespace
}  // namespace ferrograph
