#include "vector/vector_index.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hash/blake3_hasher.h"
#include "vector/exact_scan.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using vector_internal::Dot;

// ---------------------------------------------------------------- test data

void Normalize(float* v, int dim) {
  double norm = 0;
  for (int i = 0; i < dim; ++i) norm += double{v[i]} * v[i];
  norm = std::sqrt(norm);
  for (int i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] / norm);
}

// `n` L2-normalized vectors shaped like embeddings (row-major): around
// `clusters` random centres, each point its centre plus a variation drawn
// from a low-dimensional subspace (rank 8, shared by all points) and a little
// isotropic noise, so the data has a low intrinsic dimension. `spread` scales
// the variation. The same seed always gives the same vectors.
std::vector<float> Clustered(size_t n, int dim, int clusters, float spread, uint32_t seed) {
  constexpr int kRank = 8;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (float& x : centres) x = normal(rng);
  for (int c = 0; c < clusters; ++c) Normalize(&centres[static_cast<size_t>(c) * dim], dim);
  std::vector<float> basis(static_cast<size_t>(kRank) * dim);
  for (float& x : basis) x = normal(rng) / std::sqrt(static_cast<float>(dim));
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  std::vector<float> out(n * dim);
  float z[kRank];
  for (size_t i = 0; i < n; ++i) {
    const float* c = &centres[static_cast<size_t>(pick(rng)) * dim];
    for (float& x : z) x = normal(rng);
    float* v = &out[i * dim];
    for (int d = 0; d < dim; ++d) {
      float x = c[d] + 0.1f * spread * normal(rng) / std::sqrt(static_cast<float>(dim));
      for (int r = 0; r < kRank; ++r) x += spread * z[r] * basis[static_cast<size_t>(r) * dim + d];
      v[d] = x;
    }
    Normalize(v, dim);
  }
  return out;
}

// `n` vectors uniform on the unit sphere.
std::vector<float> Uniform(size_t n, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> out(n * dim);
  for (float& x : out) x = normal(rng);
  for (size_t i = 0; i < n; ++i) Normalize(&out[i * dim], dim);
  return out;
}

std::span<const float> Row(const std::vector<float>& rows, size_t i, int dim) {
  return std::span<const float>(rows).subspan(i * dim, dim);
}

// The oracle: every score, a full sort (higher score, then lower key).
std::vector<VectorHit> NaiveTopK(const std::vector<uint64_t>& keys, const std::vector<float>& rows,
                                 int dim, std::span<const float> q, size_t k,
                                 const std::vector<uint64_t>* allowed = nullptr) {
  std::vector<VectorHit> all;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (allowed && !std::binary_search(allowed->begin(), allowed->end(), keys[i])) continue;
    all.push_back({keys[i], Dot(q.data(), &rows[i * dim], dim)});
  }
  std::sort(all.begin(), all.end(), [](const VectorHit& a, const VectorHit& b) {
    return a.score != b.score ? a.score > b.score : a.key < b.key;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

std::vector<uint64_t> Keys(const std::vector<VectorHit>& hits) {
  std::vector<uint64_t> out;
  for (const VectorHit& h : hits) out.push_back(h.key);
  return out;
}

// |found ∩ truth| / |truth|.
double Recall(const std::vector<VectorHit>& found, const std::vector<VectorHit>& truth) {
  std::set<uint64_t> want;
  for (const VectorHit& h : truth) want.insert(h.key);
  size_t hit = 0;
  for (const VectorHit& h : found) hit += want.count(h.key);
  return truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
}

void ExpectSameHits(const std::vector<VectorHit>& a, const std::vector<VectorHit>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key) << "rank " << i;
    EXPECT_EQ(a[i].score, b[i].score) << "rank " << i;
  }
}

std::string TempDir(const std::string& name) {
  std::string dir = testing::TempDir() + "/vector_test_" + name + "_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// ---------------------------------------------------------------- Dot, TopHits

TEST(DotTest, MatchesDoublePrecisionSumAtEveryLength) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t n = 0; n <= 100; ++n) {
    std::vector<float> a(n), b(n);
    double want = 0;
    for (size_t i = 0; i < n; ++i) {
      a[i] = u(rng);
      b[i] = u(rng);
      want += double{a[i]} * b[i];
    }
    EXPECT_NEAR(Dot(a.data(), b.data(), n), want, 1e-5) << "n=" << n;
  }
}

// Every kernel this CPU runs adds in the portable kernel's order: the same
// float, bit for bit, at every length (tails included) and for values whose
// sums round differently in another order.
TEST(DotTest, EveryKernelGivesThePortableResultBitForBit) {
  std::span<const vector_internal::DotKernel> kernels = vector_internal::DotKernels();
  ASSERT_FALSE(kernels.empty());
  ASSERT_STREQ(kernels.front().name, "portable");
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int> exponent(-20, 20);
  for (size_t n = 0; n <= 200; ++n) {
    std::vector<float> a(n), b(n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = std::ldexp(u(rng), exponent(rng));
      b[i] = std::ldexp(u(rng), exponent(rng));
    }
    const float want = kernels.front().dot(a.data(), b.data(), n);
    for (const vector_internal::DotKernel& k : kernels) {
      const float got = k.dot(a.data(), b.data(), n);
      EXPECT_EQ(std::memcmp(&got, &want, sizeof(float)), 0)
          << k.name << " n=" << n << ": " << got << " against " << want;
      EXPECT_EQ(k.distance(a.data(), b.data(), &n), 1.0f - want) << k.name << " n=" << n;
    }
  }
  // The active kernel is one of them, and Dot goes through it.
  const vector_internal::DotKernel& active = vector_internal::ActiveDotKernel();
  EXPECT_TRUE(
      std::any_of(kernels.begin(), kernels.end(), [&](const auto& k) { return &k == &active; }));
  std::cout << "dot kernels here:";
  for (const auto& k : kernels) std::cout << " " << k.name;
  std::cout << "; active " << active.name << "\n";
}

TEST(TopHitsTest, KeepsBestKWithTiesByKey) {
  vector_internal::TopHits top(3);
  top.Offer(9, 0.5f);
  top.Offer(4, 0.5f);
  top.Offer(1, 0.1f);
  top.Offer(7, 0.9f);
  top.Offer(2, 0.5f);
  std::vector<VectorHit> hits = top.Take();
  EXPECT_THAT(Keys(hits), ::testing::ElementsAre(7, 2, 4));
}

// ---------------------------------------------------------------- ExactIndex

TEST(ExactIndexTest, MatchesNaiveSort) {
  const int dim = 40;  // not a multiple of 16: the tail loop too
  const size_t n = 3000;
  std::vector<float> rows = Clustered(n, dim, 20, 0.3f, 1);
  std::vector<uint64_t> keys(n);
  ExactIndex index(dim);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = 1000 + i * 7;
    ASSERT_TRUE(index.Add(keys[i], Row(rows, i, dim)).ok());
  }
  EXPECT_EQ(index.size(), n);
  std::vector<float> queries = Clustered(20, dim, 20, 0.3f, 2);
  for (size_t k : {size_t{1}, size_t{10}, size_t{100}, n + 5}) {
    for (size_t q = 0; q < 20; ++q) {
      VectorSearchOptions opts;
      opts.k = k;
      auto hits = index.Search(Row(queries, q, dim), opts);
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      ExpectSameHits(*hits, NaiveTopK(keys, rows, dim, Row(queries, q, dim), k));
    }
  }
}

TEST(ExactIndexTest, TiesAreBrokenByKey) {
  ExactIndex index(4);
  const float v[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  for (uint64_t key : {42u, 7u, 19u, 3u}) ASSERT_TRUE(index.Add(key, v).ok());
  VectorSearchOptions opts;
  opts.k = 3;
  auto hits = index.Search(v, opts);
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(Keys(*hits), ::testing::ElementsAre(3, 7, 19));
}

TEST(ExactIndexTest, AllowedFilterSmallAndLarge) {
  const int dim = 32;
  const size_t n = 2000;
  std::vector<float> rows = Clustered(n, dim, 10, 0.4f, 3);
  std::vector<uint64_t> keys(n);
  ExactIndex index(dim);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = i;
    ASSERT_TRUE(index.Add(i, Row(rows, i, dim)).ok());
  }
  std::vector<float> query = Clustered(1, dim, 10, 0.4f, 4);
  // Fewer allowed keys than vectors (visits the allowed keys), and more
  // (scans the vectors), both with keys the index does not hold.
  for (size_t stride : {size_t{37}, size_t{1}}) {
    std::vector<uint64_t> allowed;
    for (uint64_t key = 5; key < n + 500; key += stride) allowed.push_back(key);
    VectorSearchOptions opts;
    opts.k = 10;
    opts.allowed = &allowed;
    auto hits = index.Search(query, opts);
    ASSERT_TRUE(hits.ok());
    ExpectSameHits(*hits, NaiveTopK(keys, rows, dim, query, 10, &allowed));
  }
  std::vector<uint64_t> none;
  VectorSearchOptions opts;
  opts.allowed = &none;
  auto hits = index.Search(query, opts);
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
}

TEST(ExactIndexTest, RemoveAndReplace) {
  const int dim = 16;
  const size_t n = 200;
  std::vector<float> rows = Uniform(n, dim, 5);
  std::vector<uint64_t> keys(n);
  ExactIndex index(dim);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = i;
    ASSERT_TRUE(index.Add(i, Row(rows, i, dim)).ok());
  }
  // Remove every third key (including the last slot and the first).
  std::vector<uint64_t> kept_keys;
  std::vector<float> kept_rows;
  for (size_t i = 0; i < n; ++i) {
    if (i % 3 == 0 || i == n - 1) {
      ASSERT_TRUE(index.Remove(i).ok());
    } else {
      kept_keys.push_back(i);
      kept_rows.insert(kept_rows.end(), rows.begin() + i * dim, rows.begin() + (i + 1) * dim);
    }
  }
  EXPECT_EQ(index.size(), kept_keys.size());
  EXPECT_FALSE(index.Contains(0));
  EXPECT_TRUE(index.Contains(1));
  EXPECT_EQ(index.Remove(0).code(), StatusCode::kNotFound);

  // Replace key 1 with the vector of the query: it must rank first.
  std::vector<float> query = Uniform(1, dim, 6);
  ASSERT_TRUE(index.Add(1, query).ok());
  EXPECT_EQ(index.size(), kept_keys.size());
  std::copy(query.begin(), query.end(), kept_rows.begin());
  VectorSearchOptions opts;
  opts.k = 15;
  auto hits = index.Search(query, opts);
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].key, 1u);
  EXPECT_NEAR((*hits)[0].score, 1.0f, 1e-5);
  ExpectSameHits(*hits, NaiveTopK(kept_keys, kept_rows, dim, query, 15));
}

TEST(ExactIndexTest, RejectsBadInput) {
  ExactIndex index(4);
  const float three[3] = {1, 0, 0};
  EXPECT_EQ(index.Add(1, three).code(), StatusCode::kInvalidArgument);
  const float nan[4] = {std::numeric_limits<float>::quiet_NaN(), 0, 0, 0};
  EXPECT_EQ(index.Add(1, nan).code(), StatusCode::kInvalidArgument);
  const float ok[4] = {1, 0, 0, 0};
  ASSERT_TRUE(index.Add(1, ok).ok());
  EXPECT_EQ(index.Search(three, {}).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint64_t> unsorted = {3, 1};
  VectorSearchOptions opts;
  opts.allowed = &unsorted;
  EXPECT_EQ(index.Search(ok, opts).status().code(), StatusCode::kInvalidArgument);
  ExactIndex zero(0);
  EXPECT_EQ(zero.Add(1, {}).code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- HnswIndex

// A 20k-vector clustered index (dim 64), built once for the tests below.
class HnswFixture : public ::testing::Test {
 protected:
  static constexpr int kDim = 64;
  static constexpr size_t kN = 20000;

  static void SetUpTestSuite() {
    rows_ = new std::vector<float>(Clustered(kN, kDim, 200, 0.5f, 11));
    keys_ = new std::vector<uint64_t>(kN);
    for (size_t i = 0; i < kN; ++i) (*keys_)[i] = 5 + 3 * i;
    index_ = new HnswIndex(kDim, HnswOptions{});
    Status s = index_->AddBatch(*keys_, *rows_, 2);
    ASSERT_TRUE(s.ok()) << s.ToString();
    queries_ = new std::vector<float>(Clustered(200, kDim, 200, 0.5f, 11 + 1));
  }
  static void TearDownTestSuite() {
    delete index_;
    delete rows_;
    delete keys_;
    delete queries_;
  }
  static std::span<const float> Query(size_t i) { return Row(*queries_, i, kDim); }

  static HnswIndex* index_;
  static std::vector<float>* rows_;
  static std::vector<uint64_t>* keys_;
  static std::vector<float>* queries_;
};
HnswIndex* HnswFixture::index_ = nullptr;
std::vector<float>* HnswFixture::rows_ = nullptr;
std::vector<uint64_t>* HnswFixture::keys_ = nullptr;
std::vector<float>* HnswFixture::queries_ = nullptr;

TEST_F(HnswFixture, RecallAt10AgainstExact) {
  ASSERT_EQ(index_->size(), kN);
  double recall = 0;
  for (size_t q = 0; q < 200; ++q) {
    VectorSearchOptions opts;
    opts.k = 10;
    auto hits = index_->Search(Query(q), opts);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), 10u);
    auto truth = NaiveTopK(*keys_, *rows_, kDim, Query(q), 10);
    recall += Recall(*hits, truth);
    // Scores are exact inner products, best first.
    for (size_t i = 1; i < hits->size(); ++i) {
      EXPECT_TRUE(vector_internal::RanksBefore((*hits)[i - 1], (*hits)[i]));
    }
  }
  recall /= 200;
  std::cout << "recall@10 " << recall << "\n";
  EXPECT_GE(recall, 0.95);
  RecordProperty("recall_at_10", std::to_string(recall));
}

TEST_F(HnswFixture, SelectiveFilterIsAnsweredExactly) {
  std::mt19937 rng(3);
  std::vector<uint64_t> allowed;
  for (uint64_t key : *keys_) {
    if (rng() % 40 == 0) allowed.push_back(key);
  }
  allowed.push_back(1);  // not in the index
  std::sort(allowed.begin(), allowed.end());
  for (size_t q = 0; q < 20; ++q) {
    VectorSearchOptions opts;
    opts.k = 10;
    opts.allowed = &allowed;
    auto hits = index_->Search(Query(q), opts);
    ASSERT_TRUE(hits.ok());
    ExpectSameHits(*hits, NaiveTopK(*keys_, *rows_, kDim, Query(q), 10, &allowed));
  }
}

TEST_F(HnswFixture, BroadFilterAdmitsOnlyAllowedKeys) {
  // Half the keys, above the exact threshold: HNSW with over-fetch.
  std::vector<uint64_t> allowed;
  for (size_t i = 0; i < kN; i += 2) allowed.push_back((*keys_)[i]);
  double recall = 0;
  for (size_t q = 0; q < 100; ++q) {
    VectorSearchOptions opts;
    opts.k = 10;
    opts.allowed = &allowed;
    opts.exact_threshold = 1000;
    auto hits = index_->Search(Query(q), opts);
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 10u);
    for (const VectorHit& h : *hits) {
      EXPECT_TRUE(std::binary_search(allowed.begin(), allowed.end(), h.key)) << h.key;
    }
    recall += Recall(*hits, NaiveTopK(*keys_, *rows_, kDim, Query(q), 10, &allowed));
  }
  std::cout << "filtered recall@10 " << recall / 100 << "\n";
  EXPECT_GE(recall / 100, 0.95);
}

TEST_F(HnswFixture, TinyFilterAboveThresholdStillFindsItsKeys) {
  // 12 allowed keys, exact search disabled: over-fetch cannot find them all
  // in a broad graph search, so the search ends exact.
  std::vector<uint64_t> allowed;
  for (size_t i = 100; i < 100 + 12 * 997; i += 997) allowed.push_back((*keys_)[i]);
  VectorSearchOptions opts;
  opts.k = 10;
  opts.allowed = &allowed;
  opts.exact_threshold = 0;
  auto hits = index_->Search(Query(0), opts);
  ASSERT_TRUE(hits.ok());
  ExpectSameHits(*hits, NaiveTopK(*keys_, *rows_, kDim, Query(0), 10, &allowed));
}

TEST_F(HnswFixture, PerQueryEfIsHonoured) {
  VectorSearchOptions narrow;
  narrow.k = 10;
  narrow.ef = 10;
  VectorSearchOptions wide = narrow;
  wide.ef = 400;
  double r_narrow = 0, r_wide = 0;
  for (size_t q = 0; q < 100; ++q) {
    auto truth = NaiveTopK(*keys_, *rows_, kDim, Query(q), 10);
    r_narrow += Recall(*index_->Search(Query(q), narrow), truth);
    r_wide += Recall(*index_->Search(Query(q), wide), truth);
  }
  EXPECT_GE(r_wide, r_narrow);
  EXPECT_GE(r_wide / 100, 0.99);
}

TEST(HnswIndexTest, EmptyIndex) {
  HnswIndex index(8, HnswOptions{});
  const float q[8] = {1, 0, 0, 0, 0, 0, 0, 0};
  auto hits = index.Search(q, {});
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Contains(1));
  EXPECT_EQ(index.Remove(1).code(), StatusCode::kNotFound);
}

TEST(HnswIndexTest, GrowsAndRemovesAndRevives) {
  const int dim = 24;
  const size_t n = 1500;
  std::vector<float> rows = Clustered(n, dim, 15, 0.3f, 21);
  HnswOptions options;
  options.initial_capacity = 4;
  HnswIndex index(dim, options);
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(index.Add(i, Row(rows, i, dim)).ok());
  EXPECT_EQ(index.size(), n);

  for (size_t i = 0; i < n; i += 5) ASSERT_TRUE(index.Remove(i).ok());
  EXPECT_EQ(index.size(), n - n / 5);
  EXPECT_FALSE(index.Contains(0));
  EXPECT_EQ(index.Remove(0).code(), StatusCode::kNotFound);
  for (size_t q = 0; q < n; q += 50) {
    VectorSearchOptions opts;
    opts.k = 20;
    auto hits = index.Search(Row(rows, q, dim), opts);
    ASSERT_TRUE(hits.ok());
    for (const VectorHit& h : *hits) EXPECT_NE(h.key % 5, 0u) << "removed key " << h.key;
  }

  // Re-adding a removed key revives it; replacing moves it.
  ASSERT_TRUE(index.Add(0, Row(rows, 0, dim)).ok());
  EXPECT_TRUE(index.Contains(0));
  EXPECT_EQ(index.size(), n - n / 5 + 1);
  VectorSearchOptions one;
  one.k = 1;
  EXPECT_EQ((*index.Search(Row(rows, 0, dim), one))[0].key, 0u);
  ASSERT_TRUE(index.Add(1, Row(rows, 777, dim)).ok());
  auto hits = index.Search(Row(rows, 777, dim), VectorSearchOptions{.k = 2});
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(Keys(*hits), ::testing::UnorderedElementsAre(1, 777));
}

TEST(HnswIndexTest, AddBatchHandlesRepeatsAndReplacements) {
  const int dim = 8;
  std::vector<float> rows = Uniform(6, dim, 31);
  HnswIndex index(dim, HnswOptions{});
  ASSERT_TRUE(index.Add(50, Row(rows, 0, dim)).ok());
  // 50 is replaced; 60 is given twice: its last row wins.
  std::vector<uint64_t> keys = {60, 50, 70, 60};
  std::vector<float> batch(rows.begin() + dim, rows.begin() + 5 * dim);
  ASSERT_TRUE(index.AddBatch(keys, batch, 4).ok());
  EXPECT_EQ(index.size(), 3u);
  VectorSearchOptions one;
  one.k = 1;
  EXPECT_EQ((*index.Search(Row(rows, 2, dim), one))[0].key, 50u);
  EXPECT_EQ((*index.Search(Row(rows, 4, dim), one))[0].key, 60u);
  EXPECT_EQ(index.AddBatch(keys, std::span<const float>(batch).first(3), 1).code(),
            StatusCode::kInvalidArgument);
}

// Progress is told on the calling thread only, never backwards, ending with
// every key in.
TEST(HnswIndexTest, AddBatchTellsItsProgressOnTheCallingThread) {
  const int dim = 8;
  const size_t n = 5000;
  std::vector<float> rows = Uniform(n, dim, 37);
  std::vector<uint64_t> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = i + 1;
  HnswIndex index(dim, HnswOptions{});
  std::vector<size_t> told;
  const std::thread::id caller = std::this_thread::get_id();
  bool elsewhere = false;
  ASSERT_TRUE(index
                  .AddBatch(keys, rows, 4,
                            [&](size_t done) {
                              elsewhere |= std::this_thread::get_id() != caller;
                              told.push_back(done);
                            })
                  .ok());
  EXPECT_FALSE(elsewhere);
  ASSERT_GE(told.size(), 2u);
  EXPECT_TRUE(std::is_sorted(told.begin(), told.end()));
  EXPECT_EQ(told.back(), n);
  EXPECT_EQ(index.size(), n);
}

TEST(HnswIndexTest, SingleThreadBatchIsDeterministic) {
  const int dim = 16;
  const size_t n = 2000;
  std::vector<float> rows = Clustered(n, dim, 20, 0.3f, 41);
  std::vector<uint64_t> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = i;
  HnswIndex a(dim, HnswOptions{});
  HnswIndex b(dim, HnswOptions{});
  ASSERT_TRUE(a.AddBatch(keys, rows, 1).ok());
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(b.Add(i, Row(rows, i, dim)).ok());
  std::vector<float> queries = Clustered(30, dim, 20, 0.3f, 42);
  for (size_t q = 0; q < 30; ++q) {
    VectorSearchOptions opts;
    opts.ef = 16;
    ExpectSameHits(*a.Search(Row(queries, q, dim), opts), *b.Search(Row(queries, q, dim), opts));
  }
}

TEST(HnswIndexTest, RejectsBadOptionsAndInput) {
  HnswOptions bad;
  bad.m = 1;
  HnswIndex index(4, bad);
  const float v[4] = {1, 0, 0, 0};
  EXPECT_EQ(index.Add(1, v).code(), StatusCode::kInvalidArgument);
  HnswIndex good(4, HnswOptions{});
  const float inf[4] = {std::numeric_limits<float>::infinity(), 0, 0, 0};
  EXPECT_EQ(good.Add(1, inf).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(good.Search(std::span<const float>(v, 3), {}).status().code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- persistence

// A small index saved to a file, for the persistence tests.
struct SavedIndex {
  static constexpr int kDim = 16;
  std::string dir;
  std::string path;
  std::vector<float> rows;
  std::unique_ptr<HnswIndex> index;

  explicit SavedIndex(const std::string& name, size_t n = 600) {
    dir = TempDir(name);
    path = dir + "/model.fgvec";
    rows = Clustered(n, kDim, 10, 0.3f, 51);
    index = std::make_unique<HnswIndex>(kDim, HnswOptions{});
    for (size_t i = 0; i < n; ++i) EXPECT_TRUE(index->Add(i * 11, Row(rows, i, kDim)).ok());
    EXPECT_TRUE(index->Remove(11).ok());  // a deleted node travels too
    Status s = index->Save(path, "hash-v2-16", 42);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~SavedIndex() { fs::remove_all(dir); }
};

TEST(HnswPersistenceTest, RoundTripGivesIdenticalResults) {
  SavedIndex saved("roundtrip", 3000);
  VectorIndexHeader header;
  auto loaded = HnswIndex::Load(saved.path, HnswOptions{}, &header);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  HnswIndex& index = **loaded;
  EXPECT_EQ(header.model_id, "hash-v2-16");
  EXPECT_EQ(header.dim, SavedIndex::kDim);
  EXPECT_EQ(header.count, 2999u);
  EXPECT_EQ(header.generation, 42u);
  EXPECT_EQ(index.dim(), SavedIndex::kDim);
  EXPECT_EQ(index.size(), 2999u);
  EXPECT_FALSE(index.Contains(11));
  EXPECT_TRUE(index.Contains(22));

  std::vector<float> queries = Clustered(100, SavedIndex::kDim, 10, 0.3f, 52);
  for (size_t q = 0; q < 100; ++q) {
    VectorSearchOptions opts;
    opts.k = 10;
    ExpectSameHits(*index.Search(Row(queries, q, SavedIndex::kDim), opts),
                   *saved.index->Search(Row(queries, q, SavedIndex::kDim), opts));
  }
  // A loaded index takes further changes.
  ASSERT_TRUE(index.Add(11, Row(saved.rows, 1, SavedIndex::kDim)).ok());
  ASSERT_TRUE(index.Add(999999, Row(queries, 0, SavedIndex::kDim)).ok());
  EXPECT_EQ(index.size(), 3001u);
  VectorSearchOptions one;
  one.k = 1;
  EXPECT_EQ((*index.Search(Row(queries, 0, SavedIndex::kDim), one))[0].key, 999999u);
}

TEST(HnswPersistenceTest, ReadHeaderReadsTheFields) {
  SavedIndex saved("header");
  auto header = HnswIndex::ReadHeader(saved.path);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->model_id, "hash-v2-16");
  EXPECT_EQ(header->dim, SavedIndex::kDim);
  EXPECT_EQ(header->count, 599u);
  EXPECT_EQ(header->generation, 42u);
  std::string bytes = ReadFile(saved.path);
  EXPECT_EQ(bytes.substr(0, 8), "FGVECIDX");
  EXPECT_EQ(bytes[8], 1);  // format version, little-endian
}

TEST(HnswPersistenceTest, EmptyIndexRoundTrips) {
  std::string dir = TempDir("empty");
  HnswIndex index(12, HnswOptions{});
  ASSERT_TRUE(index.Save(dir + "/e.fgvec", "m", 0).ok());
  auto loaded = HnswIndex::Load(dir + "/e.fgvec", HnswOptions{}, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 0u);
  std::vector<float> v = Uniform(1, 12, 3);
  ASSERT_TRUE((*loaded)->Add(5, v).ok());
  EXPECT_EQ((*(*loaded)->Search(v, {}))[0].key, 5u);
  fs::remove_all(dir);
}

TEST(HnswPersistenceTest, MissingFileIsNotFound) {
  std::string path = testing::TempDir() + "/no_such_index.fgvec";
  EXPECT_EQ(HnswIndex::Load(path, HnswOptions{}, nullptr).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(HnswIndex::ReadHeader(path).status().code(), StatusCode::kNotFound);
}

// Load of `bytes` must fail with Corruption naming the file; returns the
// message.
std::string ExpectCorruption(const std::string& path, const std::string& bytes,
                             const std::string& what) {
  WriteFile(path, bytes);
  auto loaded = HnswIndex::Load(path, HnswOptions{}, nullptr);
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption)
      << what << ": " << loaded.status().ToString();
  EXPECT_THAT(loaded.status().message(), HasSubstr(path)) << what;
  return loaded.status().message();
}

TEST(HnswPersistenceTest, DamagedFilesAreCorruption) {
  SavedIndex saved("damaged");
  const std::string good = ReadFile(saved.path);
  const std::string path = saved.dir + "/damaged.fgvec";
  const size_t header_size = 76 + std::string("hash-v2-16").size();
  ASSERT_GT(good.size(), header_size + 1000);

  EXPECT_THAT(ExpectCorruption(path, "", "empty"), HasSubstr("empty"));
  std::mt19937 rng(61);
  for (size_t len : {size_t{1}, size_t{100}, size_t{5000}, good.size()}) {
    std::string noise(len, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    ExpectCorruption(path, noise, "random bytes " + std::to_string(len));
  }
  for (size_t len :
       {size_t{1}, size_t{7}, size_t{8}, size_t{12}, size_t{16}, header_size - 1, header_size,
        header_size + 1, header_size + 95, header_size + 96, good.size() / 2, good.size() - 1}) {
    ExpectCorruption(path, good.substr(0, len), "truncated to " + std::to_string(len));
  }
  ExpectCorruption(path, good + "x", "trailing byte");
  // Every header byte, and a sample of payload bytes.
  for (size_t at = 0; at < header_size; ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    ExpectCorruption(path, bad, "header byte " + std::to_string(at) + " flipped");
  }
  std::uniform_int_distribution<size_t> payload_byte(header_size, good.size() - 1);
  for (int i = 0; i < 200; ++i) {
    size_t at = i == 0 ? header_size : i == 1 ? good.size() - 1 : payload_byte(rng);
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ (1 << (i % 8)));
    EXPECT_THAT(ExpectCorruption(path, bad, "payload byte " + std::to_string(at) + " flipped"),
                HasSubstr("checksum"));
  }
  // Named reasons.
  std::string newer = good;
  newer[8] = 2;
  EXPECT_THAT(ExpectCorruption(path, newer, "newer version"), HasSubstr("newer"));
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_THAT(ExpectCorruption(path, magic, "bad magic"), HasSubstr("magic"));
  EXPECT_THAT(ExpectCorruption(path, good.substr(0, good.size() - 10), "truncated"),
              HasSubstr("truncated"));
}

template <typename T>
void PutLittle(std::string* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// An index file written from the layout documented in index_file.h, with a
// correct digest over whatever payload it is given.
std::string IndexFileBytes(const std::string& model_id, uint32_t dim, uint64_t count,
                           uint64_t generation, const std::string& payload) {
  std::string out = "FGVECIDX";
  PutLittle<uint32_t>(&out, 1);
  PutLittle<uint32_t>(&out, static_cast<uint32_t>(model_id.size()));
  out += model_id;
  PutLittle<uint32_t>(&out, dim);
  PutLittle<uint64_t>(&out, count);
  PutLittle<uint64_t>(&out, generation);
  PutLittle<uint64_t>(&out, payload.size());
  Blake3Hasher hasher;
  hasher.Update(out);
  hasher.Update(payload);
  const ContentHash digest = hasher.Finalize();
  out.append(reinterpret_cast<const char*>(digest.data()), ContentHash::kSize);
  return out + payload;
}

TEST(HnswPersistenceTest, FileLayoutIsAsDocumented) {
  SavedIndex saved("layout", 100);
  const std::string good = ReadFile(saved.path);
  const size_t header_size = 76 + std::string("hash-v2-16").size();
  EXPECT_EQ(good, IndexFileBytes("hash-v2-16", SavedIndex::kDim, 99, 42, good.substr(header_size)));
}

// A file whose digest is right but whose payload is not what hnswlib wrote:
// Load must refuse it (or, for harmless changes, load it) and never crash.
TEST(HnswPersistenceTest, ChecksummedButMalformedPayloadNeverCrashes) {
  SavedIndex saved("malformed", 300);
  const std::string good = ReadFile(saved.path);
  const size_t header_size = 76 + std::string("hash-v2-16").size();
  const std::string payload = good.substr(header_size);
  const std::string path = saved.dir + "/rewrapped.fgvec";
  auto wrap = [&](const std::string& bytes, int dim, uint64_t count) {
    WriteFile(path, IndexFileBytes("m", dim, count, 0, bytes));
  };
  // Sanity: re-wrapped as is, it loads.
  wrap(payload, SavedIndex::kDim, 299);
  ASSERT_TRUE(HnswIndex::Load(path, HnswOptions{}, nullptr).ok());
  // The header disagreeing with the payload.
  wrap(payload, SavedIndex::kDim, 300);
  EXPECT_THAT(HnswIndex::Load(path, HnswOptions{}, nullptr).status().message(),
              HasSubstr("counts"));
  wrap(payload, 32, 299);
  EXPECT_THAT(HnswIndex::Load(path, HnswOptions{}, nullptr).status().message(),
              HasSubstr("dimension mismatch"));

  std::mt19937 rng(71);
  std::uniform_int_distribution<size_t> any_byte(0, payload.size() - 1);
  const std::vector<float> query = Uniform(1, SavedIndex::kDim, 72);
  int loaded = 0;
  for (int i = 0; i < 400; ++i) {
    std::string bad = payload;
    // Mostly single bytes; every fourth trial a burst of random bytes.
    const size_t at = i < 96 ? static_cast<size_t>(i) : any_byte(rng);
    const size_t len = i % 4 == 3 ? std::min<size_t>(16, bad.size() - at) : 1;
    for (size_t j = 0; j < len; ++j) bad[at + j] = static_cast<char>(rng());
    wrap(bad, SavedIndex::kDim, 299);
    auto result = HnswIndex::Load(path, HnswOptions{}, nullptr);
    if (result.ok()) {
      ++loaded;
      ASSERT_TRUE((*result)->Search(query, {}).ok());
      ASSERT_TRUE((*result)->Add(123456789, query).ok());
    } else {
      EXPECT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().ToString();
    }
  }
  RecordProperty("malformed_loaded", loaded);
  // Random garbage with a valid digest.
  for (size_t len : {size_t{0}, size_t{95}, size_t{96}, size_t{4096}}) {
    std::string noise(len, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    wrap(noise, SavedIndex::kDim, 0);
    EXPECT_EQ(HnswIndex::Load(path, HnswOptions{}, nullptr).status().code(),
              StatusCode::kCorruption);
  }
}

// Files in `dir` other than `keep`.
std::vector<std::string> StrayFiles(const std::string& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().string() != keep) out.push_back(e.path().string());
  }
  return out;
}

TEST(HnswPersistenceTest, FailedSaveLeavesThePreviousFile) {
  SavedIndex saved("atomic");
  const std::string before = ReadFile(saved.path);
  const size_t header_size = 76 + std::string("hash-v2-16").size();
  // Grow the index so that the next save would differ, and learn its size.
  std::vector<float> more = Uniform(50, SavedIndex::kDim, 81);
  for (size_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(saved.index->Add(100000 + i, Row(more, i, SavedIndex::kDim)).ok());
  }
  const std::string probe_dir = TempDir("atomic_probe");
  ASSERT_TRUE(saved.index->Save(probe_dir + "/probe.fgvec", "hash-v2-16", 43).ok());
  const rlim_t payload_size = fs::file_size(probe_dir + "/probe.fgvec") - header_size;
  fs::remove_all(probe_dir);

  // A disk that fills up: while hnswlib writes its payload, then while the
  // final file is written.
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  for (rlim_t limit : {rlim_t{4096}, payload_size + header_size / 2}) {
    struct rlimit small = old_limit;
    small.rlim_cur = limit;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    Status s = saved.index->Save(saved.path, "hash-v2-16", 43);
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    EXPECT_EQ(s.code(), StatusCode::kIOError) << "limit " << limit << ": " << s.ToString();
    EXPECT_EQ(ReadFile(saved.path), before) << "limit " << limit;
    EXPECT_THAT(StrayFiles(saved.dir, saved.path), ::testing::IsEmpty()) << "limit " << limit;
  }
  std::signal(SIGXFSZ, old_handler);
  auto header = HnswIndex::ReadHeader(saved.path);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->generation, 42u);
  ASSERT_TRUE(HnswIndex::Load(saved.path, HnswOptions{}, nullptr).ok());

  // A directory that does not exist.
  EXPECT_EQ(saved.index->Save(saved.dir + "/missing/x.fgvec", "m", 1).code(), StatusCode::kIOError);
  // A read-only directory (root writes anyway: skip that part).
  if (geteuid() != 0) {
    ASSERT_EQ(chmod(saved.dir.c_str(), 0555), 0);
    Status s = saved.index->Save(saved.path, "hash-v2-16", 44);
    chmod(saved.dir.c_str(), 0755);
    EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
    EXPECT_EQ(ReadFile(saved.path), before);
  }
  // And a save that succeeds replaces the file.
  ASSERT_TRUE(saved.index->Save(saved.path, "hash-v2-16", 45).ok());
  EXPECT_EQ(HnswIndex::ReadHeader(saved.path)->generation, 45u);
  EXPECT_EQ(HnswIndex::ReadHeader(saved.path)->count, 649u);
  EXPECT_THAT(StrayFiles(saved.dir, saved.path), ::testing::IsEmpty());
}

}  // namespace
}  // namespace ferrograph
