// HnswIndex: an adapter around hnswlib::HierarchicalNSW<float> (0.6.2).
//
// This is the only translation unit that includes hnswlib: its header defines
// non-inline functions (cpuid, AVXCapable, ...), so a second includer in the
// same binary would not link. Every hnswlib call is wrapped so that no
// exception leaves this file.
//
// What this adapter relies on in hnswlib 0.6.2 (checked against its header):
// - searchKnn is const and safe to run concurrently (per-query visited lists
//   from a locked pool; metric counters are atomics). It searches with
//   breadth max(ef_, k), so we keep ef_ at 1 and pass the breadth as k:
//   nothing shared is written per query.
// - addPoint of distinct new labels may run concurrently (per-node link
//   locks, a global lock for the entry point, a lock around the label map),
//   as hnswlib's Python bindings do. Its level generator is drawn without a
//   lock, which only perturbs the random layer of concurrently inserted
//   nodes. Updates of an existing label run on one thread.
// - addPoint of an existing label unmarks it if deleted and replaces its
//   vector (updatePoint); markDelete throws on an absent or deleted label.
// - The loading constructor initializes nothing and loadIndex trusts the
//   file; so the payload is checked in full before loadIndex sees it.
// - Known upstream defect (nmslib/hnswlib #107, #578): searchBaseLayer reads
//   the 4 bytes after a node's last link to compute a prefetch address. On an
//   upper layer that is up to 3 bytes past hnswlib's malloc'ed block (still
//   inside glibc's chunk; prefetch never faults). AddressSanitizer reports
//   it (hnswalg.h:214-215); it is the only report in vector_test under
//   ASan+UBSan.
#include <fstream>
#include <mutex>
#include <unordered_map>
// clang-format off
#include <hnswlib/hnswlib.h>
// clang-format on

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "vector/exact_scan.h"
#include "vector/index_file.h"
#include "vector/vector_index.h"

namespace ferrograph {

using vector_internal::CheckAllowed;
using vector_internal::CheckVector;
using vector_internal::Dot;
using vector_internal::IsAllowed;
using vector_internal::TopHits;

namespace {

using Graph = hnswlib::HierarchicalNSW<float>;
using hnswlib::tableint;

constexpr size_t kMaxM = 10000;  // hnswlib's own cap
constexpr size_t kMaxEfConstruction = 1 << 20;
constexpr int kMaxLevels = 200;       // far above any level hnswlib draws
constexpr size_t kPreambleSize = 96;  // saveIndex's fixed fields
constexpr tableint kNoEntryPoint = static_cast<tableint>(-1);

// Runs `f`, turning any exception into a Status made by `make` from
// "<what>: <exception text>".
template <typename F, typename Make>
Status Guard(const std::string& what, Make make, F&& f) {
  try {
    f();
    return Status::OK();
  } catch (const std::bad_alloc&) {
    return make(what + ": out of memory");
  } catch (const std::exception& e) {
    return make(what + ": hnswlib: " + e.what());
  } catch (...) {
    return make(what + ": hnswlib threw an unknown exception");
  }
}

Status MakeInternal(const std::string& m) { return Status::Internal(m); }

Status CheckOptions(const HnswOptions& o) {
  if (o.m < 2 || o.m > kMaxM) {
    return Status::InvalidArgument("HNSW m must be in 2.." + std::to_string(kMaxM) + ", not " +
                                   std::to_string(o.m));
  }
  if (o.ef_construction == 0 || o.ef_construction > kMaxEfConstruction) {
    return Status::InvalidArgument("HNSW ef_construction must be in 1.." +
                                   std::to_string(kMaxEfConstruction) + ", not " +
                                   std::to_string(o.ef_construction));
  }
  return Status::OK();
}

// hnswlib's inner-product space (distance 1 - a.b) computed by our dot
// product kernels (vector/dot.h): hnswlib picks its own SIMD at compile time,
// and a baseline x86-64 build gets its SSE loop, which did 70% of an HNSW
// build's work; ours use AVX2 or AVX-512 where the CPU has them and score
// every pair as exact search does.
class DotSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit DotSpace(size_t dim)
      : dim_(dim), distance_(vector_internal::ActiveDotKernel().distance) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
  hnswlib::DISTFUNC<float> distance_;
};

// A graph for loadIndex: the loading constructor leaves every field
// uninitialized, and the destructor frees some of them.
std::unique_ptr<Graph> NewGraphForLoad(hnswlib::SpaceInterface<float>* space) {
  auto g = std::make_unique<Graph>(space);
  g->max_elements_ = 0;
  g->cur_element_count = 0;
  g->num_deleted_ = 0;
  g->data_level0_memory_ = nullptr;
  g->linkLists_ = nullptr;
  g->visited_list_pool_ = nullptr;
  g->enterpoint_node_ = kNoEntryPoint;
  g->maxlevel_ = -1;
  g->ef_ = 1;
  g->metric_distance_computations = 0;
  g->metric_hops = 0;
  return g;
}

// Makes a graph whose loadIndex threw safe to destroy: its destructor walks
// cur_element_count entries of element_levels_.
// hnswlib 0.6.2's loadIndex, reading the payload CheckPayload has
// verified from memory instead of through an ifstream (whose tellg/seekg per
// element cost a system call each: seconds for a few hundred thousand
// vectors). Same fields, same order, same allocations.
void LoadFromMemory(Graph& g, const uint8_t* p, hnswlib::SpaceInterface<float>* space,
                    size_t capacity) {
  auto pod = [&p](auto& field) {
    std::memcpy(&field, p, sizeof(field));
    p += sizeof(field);
  };
  pod(g.offsetLevel0_);
  pod(g.max_elements_);
  pod(g.cur_element_count);
  const size_t max_elements = std::max(capacity, g.cur_element_count);
  g.max_elements_ = max_elements;
  pod(g.size_data_per_element_);
  pod(g.label_offset_);
  pod(g.offsetData_);
  pod(g.maxlevel_);
  pod(g.enterpoint_node_);
  pod(g.maxM_);
  pod(g.maxM0_);
  pod(g.M_);
  pod(g.mult_);
  pod(g.ef_construction_);
  g.data_size_ = space->get_data_size();
  g.fstdistfunc_ = space->get_dist_func();
  g.dist_func_param_ = space->get_dist_func_param();

  g.data_level0_memory_ = static_cast<char*>(malloc(max_elements * g.size_data_per_element_));
  if (g.data_level0_memory_ == nullptr) throw std::runtime_error("out of memory (level 0)");
  std::memcpy(g.data_level0_memory_, p, g.cur_element_count * g.size_data_per_element_);
  p += g.cur_element_count * g.size_data_per_element_;
  g.size_links_per_element_ =
      g.maxM_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  g.size_links_level0_ = g.maxM0_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  std::vector<std::mutex>(max_elements).swap(g.link_list_locks_);
  std::vector<std::mutex>(Graph::max_update_element_locks).swap(g.link_list_update_locks_);
  g.visited_list_pool_ = new hnswlib::VisitedListPool(1, static_cast<int>(max_elements));
  g.linkLists_ = static_cast<char**>(malloc(sizeof(void*) * max_elements));
  if (g.linkLists_ == nullptr) throw std::runtime_error("out of memory (link lists)");
  g.element_levels_ = std::vector<int>(max_elements);
  g.revSize_ = 1.0 / g.mult_;
  g.ef_ = 10;
  g.label_lookup_.reserve(g.cur_element_count);
  for (size_t i = 0; i < g.cur_element_count; i++) {
    g.label_lookup_[g.getExternalLabel(static_cast<hnswlib::tableint>(i))] =
        static_cast<hnswlib::tableint>(i);
    unsigned int size;
    pod(size);
    if (size == 0) {
      g.element_levels_[i] = 0;
      g.linkLists_[i] = nullptr;
    } else {
      g.element_levels_[i] = static_cast<int>(size / g.size_links_per_element_);
      g.linkLists_[i] = static_cast<char*>(malloc(size));
      if (g.linkLists_[i] == nullptr) throw std::runtime_error("out of memory (a link list)");
      std::memcpy(g.linkLists_[i], p, size);
      p += size;
    }
  }
  for (size_t i = 0; i < g.cur_element_count; i++)
    if (g.isMarkedDeleted(static_cast<hnswlib::tableint>(i))) g.num_deleted_ += 1;
}

void DiscardFailedLoad(std::unique_ptr<Graph> g) {
  g->cur_element_count = std::min(g->cur_element_count, g->element_levels_.size());
  if (g->linkLists_ == nullptr) g->cur_element_count = 0;
}

template <typename T>
T Read(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// What the payload check learned.
struct PayloadShape {
  size_t count = 0;  // nodes, deleted ones included
  size_t deleted = 0;
};

// Checks hnswlib's serialization (saveIndex of 0.6.2, native byte order) of
// an index of `dim` floats in full: fields, sizes, and that every link
// points at an existing node on an existing layer, so that neither loadIndex
// nor a later search or insert can read out of bounds. The message names
// what is wrong.
Result<PayloadShape> CheckPayload(const uint8_t* data, size_t size, int dim) {
  auto bad = [](const std::string& what) { return Status::Corruption(what); };
  if (size < kPreambleSize) {
    return bad("the index payload is " + std::to_string(size) + " bytes, shorter than its " +
               std::to_string(kPreambleSize) + "-byte preamble");
  }
  const size_t offset_level0 = Read<size_t>(data + 0);
  const size_t count = Read<size_t>(data + 16);
  const size_t data_per_element = Read<size_t>(data + 24);
  const size_t label_offset = Read<size_t>(data + 32);
  const size_t offset_data = Read<size_t>(data + 40);
  const int max_level = Read<int>(data + 48);
  const tableint entry_point = Read<tableint>(data + 52);
  const size_t max_m = Read<size_t>(data + 56);
  const size_t max_m0 = Read<size_t>(data + 64);
  const size_t m = Read<size_t>(data + 72);
  const double mult = Read<double>(data + 80);
  const size_t ef_construction = Read<size_t>(data + 88);

  if (offset_level0 != 0) return bad("unexpected layer-0 offset " + std::to_string(offset_level0));
  if (m < 2 || m > kMaxM || max_m != m || max_m0 != 2 * m) {
    return bad("inconsistent link counts (M " + std::to_string(m) + ", maxM " +
               std::to_string(max_m) + ", maxM0 " + std::to_string(max_m0) + ")");
  }
  if (!(std::fabs(mult - 1 / std::log(static_cast<double>(m))) < 1e-9)) {
    return bad("level multiplier does not match M " + std::to_string(m));
  }
  if (ef_construction < m || ef_construction > kMaxEfConstruction) {
    return bad("ef_construction " + std::to_string(ef_construction) + " is out of range");
  }
  const size_t links0 = max_m0 * sizeof(tableint) + sizeof(hnswlib::linklistsizeint);
  const size_t links = max_m * sizeof(tableint) + sizeof(hnswlib::linklistsizeint);
  const size_t vector_bytes = static_cast<size_t>(dim) * sizeof(float);
  if (offset_data != links0 || label_offset < offset_data ||
      data_per_element != label_offset + sizeof(hnswlib::labeltype)) {
    return bad("inconsistent node layout");
  }
  if (label_offset - offset_data != vector_bytes) {
    return bad("dimension mismatch: the payload holds vectors of " +
               std::to_string((label_offset - offset_data) / sizeof(float)) +
               " floats, the header says " + std::to_string(dim));
  }
  if (count > (size - kPreambleSize) / data_per_element || count >= kNoEntryPoint) {
    return bad("node count " + std::to_string(count) + " does not fit the payload");
  }
  if (count == 0 ? (max_level != -1 || entry_point != kNoEntryPoint)
                 : (max_level < 0 || max_level > kMaxLevels || entry_point >= count)) {
    return bad("bad entry point " + std::to_string(entry_point) + " at level " +
               std::to_string(max_level));
  }

  // Upper layers: one block per node, its length a whole number of layers.
  const uint8_t* level0 = data + kPreambleSize;
  std::vector<int> levels(count);
  std::vector<size_t> block_of(count);
  size_t pos = kPreambleSize + count * data_per_element;
  int highest = count == 0 ? -1 : 0;
  for (size_t i = 0; i < count; ++i) {
    if (size - pos < sizeof(uint32_t)) return bad("upper-layer links are truncated");
    const uint32_t block = Read<uint32_t>(data + pos);
    pos += sizeof(uint32_t);
    if (block % links != 0 || block / links > static_cast<size_t>(kMaxLevels)) {
      return bad("node " + std::to_string(i) + " has a malformed upper-layer block");
    }
    if (size - pos < block) return bad("upper-layer links are truncated");
    levels[i] = static_cast<int>(block / links);
    block_of[i] = pos;
    highest = std::max(highest, levels[i]);
    pos += block;
  }
  if (pos != size) return bad(std::to_string(size - pos) + " trailing bytes after the graph");
  if (highest != max_level || (count > 0 && levels[entry_point] != max_level)) {
    return bad("the entry point is not on the top layer");
  }

  // Every link list: its length within bounds, its targets existing nodes
  // present on that layer.
  auto check_list = [&](size_t i, const uint8_t* list, size_t cap, int layer) -> Status {
    const size_t n = Read<uint16_t>(list);
    if (n > cap) return bad("node " + std::to_string(i) + " has too many links");
    for (size_t j = 0; j < n; ++j) {
      const tableint t = Read<tableint>(list + sizeof(hnswlib::linklistsizeint) + j * 4);
      if (t >= count || levels[t] < layer) {
        return bad("node " + std::to_string(i) + " links to a missing node");
      }
    }
    return Status::OK();
  };
  PayloadShape shape;
  shape.count = count;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* list = level0 + i * data_per_element;
    FG_RETURN_IF_ERROR(check_list(i, list, max_m0, 0));
    if (list[2] & Graph::DELETE_MARK) ++shape.deleted;
    for (int layer = 1; layer <= levels[i]; ++layer) {
      FG_RETURN_IF_ERROR(check_list(i, data + block_of[i] + (layer - 1) * links, max_m, layer));
    }
    const float* v = reinterpret_cast<const float*>(list + offset_data);
    for (int d = 0; d < dim; ++d) {
      float x;
      std::memcpy(&x, v + d, sizeof(x));
      if (!std::isfinite(x)) return bad("node " + std::to_string(i) + " has a non-finite vector");
    }
  }
  return shape;
}

// The number of bytes saveIndex writes for `g`.
uint64_t SavedSize(const Graph& g) {
  uint64_t n = kPreambleSize + g.cur_element_count * g.size_data_per_element_;
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    n += sizeof(uint32_t);
    if (g.element_levels_[i] > 0) n += g.size_links_per_element_ * g.element_levels_[i];
  }
  return n;
}

}  // namespace

struct HnswIndex::Impl {
  Impl(int d, const HnswOptions& o)
      : dim(d), options(o), space(static_cast<size_t>(std::max(d, 1))) {}

  // Creates the graph on first use.
  Status EnsureGraph() {
    if (graph) return Status::OK();
    FG_RETURN_IF_ERROR(CheckOptions(options));
    const size_t capacity = std::max<size_t>(options.initial_capacity, 1);
    return Guard("creating the HNSW index", MakeInternal, [&] {
      graph = std::make_unique<Graph>(&space, capacity, options.m, options.ef_construction,
                                      options.seed);
      graph->setEf(1);
    });
  }

  // Makes room for `n` nodes in total (deleted ones take room too).
  Status Reserve(size_t n) {
    if (n <= graph->max_elements_) return Status::OK();
    const size_t capacity = std::max(n, graph->max_elements_ * 2);
    return Guard("growing the HNSW index to " + std::to_string(capacity), MakeInternal,
                 [&] { graph->resizeIndex(capacity); });
  }

  std::optional<tableint> LiveId(uint64_t key) const {
    if (!graph) return std::nullopt;
    auto it = graph->label_lookup_.find(key);
    if (it == graph->label_lookup_.end() || graph->isMarkedDeleted(it->second)) {
      return std::nullopt;
    }
    return it->second;
  }

  float Score(std::span<const float> query, tableint id) const {
    return Dot(query.data(), reinterpret_cast<const float*>(graph->getDataByInternalId(id)),
               query.size());
  }

  size_t live() const { return graph ? graph->cur_element_count - graph->num_deleted_ : 0; }

  // Exact search over the live nodes, restricted to `allowed` when set.
  std::vector<VectorHit> Exact(std::span<const float> query, size_t k,
                               const std::vector<uint64_t>* allowed) const {
    TopHits top(k);
    if (allowed != nullptr && allowed->size() < graph->cur_element_count) {
      for (uint64_t key : *allowed) {
        if (auto id = LiveId(key)) top.Offer(key, Score(query, *id));
      }
      return top.Take();
    }
    for (tableint id = 0; id < graph->cur_element_count; ++id) {
      if (graph->isMarkedDeleted(id)) continue;
      const uint64_t key = graph->getExternalLabel(id);
      if (allowed != nullptr && !IsAllowed(*allowed, key)) continue;
      top.Offer(key, Score(query, id));
    }
    return top.Take();
  }

  int dim;
  HnswOptions options;
  DotSpace space;                // outlives graph, which points into it
  std::unique_ptr<Graph> graph;  // null until the first Add or a Load
};

HnswIndex::HnswIndex(int dim, const HnswOptions& options)
    : impl_(std::make_unique<Impl>(dim, options)) {}
HnswIndex::HnswIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswIndex::~HnswIndex() = default;

int HnswIndex::dim() const { return impl_->dim; }
size_t HnswIndex::size() const { return impl_->live(); }

Status HnswIndex::Add(uint64_t key, std::span<const float> v) {
  FG_RETURN_IF_ERROR(CheckVector(v, impl_->dim, "vector"));
  FG_RETURN_IF_ERROR(impl_->EnsureGraph());
  Graph& g = *impl_->graph;
  if (g.label_lookup_.count(key) == 0) FG_RETURN_IF_ERROR(impl_->Reserve(g.cur_element_count + 1));
  return Guard("adding vector " + std::to_string(key), MakeInternal,
               [&] { g.addPoint(v.data(), key); });
}

Status HnswIndex::AddBatch(std::span<const uint64_t> keys, std::span<const float> rows, int threads,
                           const std::function<void(size_t done)>& on_progress) {
  const int dim = impl_->dim;
  if (dim <= 0) return CheckVector(rows, dim, "vector");
  if (rows.size() != keys.size() * static_cast<size_t>(dim)) {
    return Status::InvalidArgument("AddBatch: " + std::to_string(keys.size()) + " keys but " +
                                   std::to_string(rows.size()) + " floats (dimension " +
                                   std::to_string(dim) + ")");
  }
  auto row = [&](size_t i) { return rows.subspan(i * dim, dim); };
  for (size_t i = 0; i < keys.size(); ++i) {
    FG_RETURN_IF_ERROR(
        CheckVector(row(i), dim, "vector").WithContext("AddBatch: key " + std::to_string(keys[i])));
  }
  FG_RETURN_IF_ERROR(impl_->EnsureGraph());
  Graph& g = *impl_->graph;

  // Keys new to the graph, each at its first occurrence, may go in parallel;
  // the rest (replacements, repeats) follow in order on this thread.
  std::vector<size_t> fresh;
  std::vector<size_t> later;
  {
    std::unordered_set<uint64_t> seen;
    seen.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (seen.insert(keys[i]).second && g.label_lookup_.count(keys[i]) == 0) {
        fresh.push_back(i);
      } else {
        later.push_back(i);
      }
    }
  }
  FG_RETURN_IF_ERROR(impl_->Reserve(g.cur_element_count + fresh.size()));

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  // `report`: this is the calling thread, which tells on_progress (about
  // every 1024 insertions, whoever made them).
  auto work = [&](bool report) {
    size_t report_at = 0;
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t n = next.fetch_add(1);
      if (n >= fresh.size()) return;
      if (report && on_progress && n >= report_at) {
        on_progress(n);
        report_at = n + 1024;
      }
      const size_t i = fresh[n];
      Status s = Guard("adding vector " + std::to_string(keys[i]), MakeInternal,
                       [&] { g.addPoint(row(i).data(), keys[i]); });
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = s;
        failed = true;
      }
    }
  };
  const size_t helpers =
      threads <= 1 ? 0 : std::min<size_t>(static_cast<size_t>(threads) - 1, fresh.size() / 64);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < helpers; ++t) {
    try {
      pool.emplace_back(work, false);
    } catch (const std::system_error&) {
      break;  // fewer threads; this one still works
    }
  }
  work(true);
  for (std::thread& t : pool) t.join();
  FG_RETURN_IF_ERROR(first_error);

  for (size_t i : later) {
    FG_RETURN_IF_ERROR(Guard("adding vector " + std::to_string(keys[i]), MakeInternal,
                             [&] { g.addPoint(row(i).data(), keys[i]); }));
  }
  if (on_progress) on_progress(keys.size());
  return Status::OK();
}

Status HnswIndex::Remove(uint64_t key) {
  if (!impl_->LiveId(key)) {
    return Status::NotFound("vector index: no vector with key " + std::to_string(key));
  }
  return Guard("removing vector " + std::to_string(key), MakeInternal,
               [&] { impl_->graph->markDelete(key); });
}

bool HnswIndex::Contains(uint64_t key) const { return impl_->LiveId(key).has_value(); }

Result<std::vector<VectorHit>> HnswIndex::Search(std::span<const float> query,
                                                 const VectorSearchOptions& options) const {
  FG_RETURN_IF_ERROR(CheckVector(query, impl_->dim, "query"));
  const std::vector<uint64_t>* allowed = options.allowed;
  if (allowed != nullptr) FG_RETURN_IF_ERROR(CheckAllowed(*allowed));
  const size_t k = options.k;
  const size_t live = impl_->live();
  if (k == 0 || live == 0) return std::vector<VectorHit>();
  if (allowed != nullptr && allowed->size() <= options.exact_threshold) {
    return impl_->Exact(query, k, allowed);
  }

  const Graph& g = *impl_->graph;
  const size_t ef = options.ef != 0 ? options.ef : impl_->options.ef_search;
  // A filter admitting a fraction f of the index needs about 1/f times the
  // breadth to meet as many admissible candidates; k gets a further 2x for
  // the unevenness of the filter.
  double fraction = 1;
  if (allowed != nullptr) {
    fraction = std::min(1.0, static_cast<double>(allowed->size()) / static_cast<double>(live));
  }
  auto scaled = [fraction](size_t n) {
    return static_cast<size_t>(std::ceil(static_cast<double>(n) / fraction));
  };
  size_t breadth = std::max({scaled(ef), scaled(allowed != nullptr ? 2 * k : k), k});
  // Past a quarter of the index, a scan costs less than so broad a search.
  if (breadth >= live / 4) return impl_->Exact(query, k, allowed);
  for (;;) {
    std::priority_queue<std::pair<float, hnswlib::labeltype>> found;
    FG_RETURN_IF_ERROR(Guard("searching the HNSW index", MakeInternal,
                             [&] { found = g.searchKnn(query.data(), breadth); }));
    const size_t returned = found.size();
    TopHits top(k);
    for (; !found.empty(); found.pop()) {
      const uint64_t key = found.top().second;
      if (allowed != nullptr && !IsAllowed(*allowed, key)) continue;
      if (auto id = impl_->LiveId(key)) top.Offer(key, impl_->Score(query, *id));
    }
    if (top.size() >= k) return top.Take();
    // Fewer results than asked for: the graph has shown all it can reach.
    if (returned < breadth) break;
    breadth *= 4;
    if (breadth >= live / 4) break;
  }
  return impl_->Exact(query, k, allowed);
}

Status HnswIndex::Save(const std::string& path, const std::string& model_id,
                       uint64_t generation) const {
  if (impl_->dim <= 0) return CheckVector({}, impl_->dim, "vector");
  // An index nothing was added to is saved as an empty graph.
  std::unique_ptr<Graph> empty;
  Graph* g = impl_->graph.get();
  if (g == nullptr) {
    FG_RETURN_IF_ERROR(CheckOptions(impl_->options));
    FG_RETURN_IF_ERROR(Guard("creating the HNSW index", MakeInternal, [&] {
      empty = std::make_unique<Graph>(&impl_->space, 1, impl_->options.m,
                                      impl_->options.ef_construction, impl_->options.seed);
    }));
    g = empty.get();
  }
  const std::string payload = vector_internal::TempPathBeside(path, "payload");
  Status s =
      Guard("writing the HNSW graph to " + payload, MakeInternal, [&] { g->saveIndex(payload); });
  if (s.ok()) {
    VectorIndexHeader header;
    header.model_id = model_id;
    header.dim = impl_->dim;
    header.count = g->cur_element_count - g->num_deleted_;
    header.generation = generation;
    s = vector_internal::WriteIndexFile(path, header, payload, SavedSize(*g));
  }
  ::unlink(payload.c_str());
  return s.WithContext("saving vector index " + path);
}

Result<VectorIndexHeader> HnswIndex::ReadHeader(const std::string& path) {
  FG_ASSIGN_OR_RETURN(vector_internal::IndexFileInfo info,
                      vector_internal::ReadIndexFileInfo(path));
  return info.header;
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Load(const std::string& path,
                                                   const HnswOptions& options,
                                                   VectorIndexHeader* header) {
  vector_internal::IndexFileInfo info;
  FG_ASSIGN_OR_RETURN(vector_internal::VerifiedPayload payload,
                      vector_internal::ReadIndexFile(path, &info));
  const int dim = info.header.dim;
  Result<PayloadShape> shape = CheckPayload(payload.data(), payload.size(), dim);
  if (!shape.ok()) return Status::Corruption(path + ": " + shape.status().message());
  if (shape->count - shape->deleted != info.header.count) {
    return Status::Corruption(path + ": the header counts " + std::to_string(info.header.count) +
                              " vectors, the graph holds " +
                              std::to_string(shape->count - shape->deleted));
  }

  auto impl = std::make_unique<Impl>(dim, options);
  std::unique_ptr<Graph> g = NewGraphForLoad(&impl->space);
  const size_t capacity = std::max<size_t>({shape->count, options.initial_capacity, 1});
  Status s = Guard(
      path, [](const std::string& m) { return Status::Corruption(m); },
      [&] { LoadFromMemory(*g, payload.data(), &impl->space, capacity); });
  if (!s.ok()) {
    DiscardFailedLoad(std::move(g));
    return s;
  }
  if (g->cur_element_count != shape->count || g->label_lookup_.size() != shape->count) {
    return Status::Corruption(path + ": the graph holds " + std::to_string(shape->count) +
                              " nodes but " + std::to_string(g->label_lookup_.size()) +
                              " distinct keys");
  }
  g->num_deleted_ = shape->deleted;  // loadIndex counted them too, from our zero
  g->setEf(1);
  g->level_generator_.seed(options.seed);
  g->update_probability_generator_.seed(options.seed + 1);
  impl->options.m = g->M_;
  impl->options.ef_construction = g->ef_construction_;
  impl->graph = std::move(g);
  if (header != nullptr) *header = info.header;
  return std::unique_ptr<HnswIndex>(new HnswIndex(std::move(impl)));
}

}  // namespace ferrograph
