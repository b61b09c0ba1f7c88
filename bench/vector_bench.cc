// vector_bench: HNSW (HnswIndex) against its baseline, exact search
// (ExactIndex), on one set of vectors in one run:
//   - recall@k of HNSW against exact search, for each ef in the sweep;
//   - queries per second of each, one query at a time on one thread, over
//     the held-out queries (exact: one pass, HNSW: five; Google Benchmark,
//     wall and CPU time);
//   - HNSW build time (AddBatch on --threads threads), index file size, save
//     and load time, and that the loaded index answers as the saved one.
//
// Vectors, one of:
//   --db FILE --model MODEL_ID  the store's vectors of that model: table
//                               vectors(id, model, content_hash, vec) joined
//                               to models(id, model_id, dim); vec is dim
//                               little-endian float32
//   --synthetic N --dim D       N clustered vectors of low intrinsic dimension
//                               (seeded: the same every run)
// Queries: --queries Q vectors held out of both indexes (evenly spaced by
// key), default 1000.
//
// Other flags: --k 10, --ef 32,64,128, --m 16, --ef-construction 100,
// --threads (default: all cores), --index-dir DIR (default $TMPDIR or /tmp)
// and Google Benchmark's own --benchmark_* flags.
//
// Output: the report as markdown on stdout; progress and Google Benchmark's
// console report on stderr.
//
// Recall counts a returned hit as correct when its score is at least the
// k-th exact score (so ties at rank k, e.g. duplicate vectors, count as
// found); scores are exact inner products in both indexes.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ferrograph/status.h"
#include "vector/vector_index.h"

namespace ferrograph {
namespace {

struct Flags {
  std::string db;
  std::string model;
  size_t synthetic = 0;
  int dim = 0;
  size_t queries = 1000;
  size_t k = 10;
  std::vector<size_t> efs = {32, 64, 128};
  size_t m = 16;
  size_t ef_construction = 100;
  int threads = 0;
  std::string index_dir;
};

struct Dataset {
  std::string source;  // for the report
  int dim = 0;
  std::vector<uint64_t> keys;  // indexed
  std::vector<float> rows;
  std::vector<uint64_t> query_keys;  // held out
  std::vector<float> queries;
  std::span<const float> query(size_t i) const {
    return std::span<const float>(queries).subspan(i * dim, dim);
  }
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// CPU seconds of this process so far, all threads.
double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ------------------------------------------------------------ flags

std::vector<size_t> ParseList(const std::string& s) {
  std::vector<size_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoul(item));
  return out;
}

// Consumes our flags from argv, leaving the rest (Google Benchmark's).
Status ParseFlags(int* argc, char** argv, Flags* f) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= *argc) return "";
      return argv[++i];
    };
    try {
      if (arg == "--db") {
        f->db = value();
      } else if (arg == "--model") {
        f->model = value();
      } else if (arg == "--synthetic") {
        f->synthetic = std::stoul(value());
      } else if (arg == "--dim") {
        f->dim = std::stoi(value());
      } else if (arg == "--queries") {
        f->queries = std::stoul(value());
      } else if (arg == "--k") {
        f->k = std::stoul(value());
      } else if (arg == "--ef") {
        f->efs = ParseList(value());
      } else if (arg == "--m") {
        f->m = std::stoul(value());
      } else if (arg == "--ef-construction") {
        f->ef_construction = std::stoul(value());
      } else if (arg == "--threads") {
        f->threads = std::stoi(value());
      } else if (arg == "--index-dir") {
        f->index_dir = value();
      } else if (arg.rfind("--benchmark_", 0) == 0) {
        argv[out++] = argv[i];
      } else {
        return Status::InvalidArgument("unknown flag " + arg);
      }
    } catch (const std::exception&) {
      return Status::InvalidArgument("bad value for " + arg);
    }
  }
  *argc = out;
  if (f->db.empty() == (f->synthetic == 0)) {
    return Status::InvalidArgument(
        "give either --db FILE --model MODEL_ID or --synthetic N --dim D");
  }
  if (!f->db.empty() && f->model.empty()) return Status::InvalidArgument("--db needs --model");
  if (f->synthetic != 0 && f->dim <= 0) return Status::InvalidArgument("--synthetic needs --dim");
  if (f->k == 0 || f->efs.empty()) return Status::InvalidArgument("--k and --ef must be positive");
  if (f->threads <= 0)
    f->threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (f->index_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    f->index_dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  return Status::OK();
}

// ------------------------------------------------------------ vectors

void Normalize(float* v, int dim) {
  double norm = 0;
  for (int i = 0; i < dim; ++i) norm += double{v[i]} * v[i];
  norm = std::sqrt(norm);
  if (norm == 0) return;
  for (int i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] / norm);
}

// Like embeddings: clusters, each a centre plus variation in a shared
// low-dimensional subspace (rank 16) and a little isotropic noise.
void Synthetic(size_t n, int dim, std::vector<uint64_t>* keys, std::vector<float>* rows) {
  constexpr int kRank = 16;
  const int clusters = std::max<int>(1, static_cast<int>(n / 500));
  std::mt19937 rng(20240601);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (float& x : centres) x = normal(rng);
  for (int c = 0; c < clusters; ++c) Normalize(&centres[static_cast<size_t>(c) * dim], dim);
  std::vector<float> basis(static_cast<size_t>(kRank) * dim);
  const float scale = 0.5f / std::sqrt(static_cast<float>(dim));
  for (float& x : basis) x = normal(rng) * scale;
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  rows->resize(n * dim);
  keys->resize(n);
  float z[kRank];
  for (size_t i = 0; i < n; ++i) {
    (*keys)[i] = i + 1;
    const float* c = &centres[static_cast<size_t>(pick(rng)) * dim];
    for (float& x : z) x = normal(rng);
    float* v = &(*rows)[i * dim];
    for (int d = 0; d < dim; ++d) {
      float x = c[d] + 0.05f * normal(rng) / std::sqrt(static_cast<float>(dim));
      for (int r = 0; r < kRank; ++r) x += z[r] * basis[static_cast<size_t>(r) * dim + d];
      v[d] = x;
    }
    Normalize(v, dim);
  }
}

Status ReadDatabase(const std::string& path, const std::string& model, int* dim,
                    std::vector<uint64_t>* keys, std::vector<float>* rows) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return Status::IOError(path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  auto prepare = [&](const char* sql) -> Result<std::shared_ptr<sqlite3_stmt>> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &st, nullptr) != SQLITE_OK) {
      return Status::InvalidArgument(path + ": " + sqlite3_errmsg(db.get()) +
                                     " (a database with the vectors and models tables?)");
    }
    return std::shared_ptr<sqlite3_stmt>(st, &sqlite3_finalize);
  };
  FG_ASSIGN_OR_RETURN(auto models, prepare("SELECT id, dim FROM models WHERE model_id = ?1"));
  sqlite3_bind_text(models.get(), 1, model.data(), static_cast<int>(model.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(models.get()) != SQLITE_ROW) {
    std::string known;
    FG_ASSIGN_OR_RETURN(auto all, prepare("SELECT model_id FROM models ORDER BY id"));
    while (sqlite3_step(all.get()) == SQLITE_ROW) {
      known += std::string(known.empty() ? "" : ", ") +
               reinterpret_cast<const char*>(sqlite3_column_text(all.get(), 0));
    }
    return Status::NotFound(path + ": no model " + model +
                            " (models: " + (known.empty() ? "none" : known) + ")");
  }
  const int64_t model_row = sqlite3_column_int64(models.get(), 0);
  *dim = sqlite3_column_int(models.get(), 1);
  if (*dim <= 0) return Status::Corruption(path + ": model " + model + " has no dimension");
  FG_ASSIGN_OR_RETURN(auto vecs,
                      prepare("SELECT id, vec FROM vectors WHERE model = ?1 ORDER BY id"));
  sqlite3_bind_int64(vecs.get(), 1, model_row);
  const size_t bytes = static_cast<size_t>(*dim) * sizeof(float);
  while ((rc = sqlite3_step(vecs.get())) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(vecs.get(), 0);
    const void* blob = sqlite3_column_blob(vecs.get(), 1);
    if (static_cast<size_t>(sqlite3_column_bytes(vecs.get(), 1)) != bytes) {
      return Status::Corruption(path + ": vector " + std::to_string(id) + " is not " +
                                std::to_string(*dim) + " float32s");
    }
    keys->push_back(static_cast<uint64_t>(id));
    const size_t at = rows->size();
    rows->resize(at + *dim);
    std::memcpy(&(*rows)[at], blob, bytes);
    if constexpr (std::endian::native == std::endian::big) {
      for (size_t i = at; i < rows->size(); ++i) {
        uint32_t u;
        std::memcpy(&u, &(*rows)[i], 4);
        u = __builtin_bswap32(u);
        std::memcpy(&(*rows)[i], &u, 4);
      }
    }
  }
  if (rc != SQLITE_DONE) return Status::IOError(path + ": " + sqlite3_errmsg(db.get()));
  return Status::OK();
}

// Moves `q` evenly spaced rows out of the indexed set into the queries.
void HoldOut(size_t q, Dataset* d) {
  const size_t n = d->keys.size();
  q = std::min(q, n / 2);
  std::vector<uint64_t> keys;
  std::vector<float> rows;
  keys.reserve(n - q);
  rows.reserve((n - q) * d->dim);
  size_t taken = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* row = &d->rows[i * d->dim];
    // Row i is a query when it starts a new stride of n/q rows.
    if (taken < q && i * q >= taken * n) {
      d->query_keys.push_back(d->keys[i]);
      d->queries.insert(d->queries.end(), row, row + d->dim);
      ++taken;
    } else {
      keys.push_back(d->keys[i]);
      rows.insert(rows.end(), row, row + d->dim);
    }
  }
  d->keys = std::move(keys);
  d->rows = std::move(rows);
}

// ------------------------------------------------------------ measuring

using Hits = std::vector<VectorHit>;

// Runs every query through `index` on `threads` threads.
std::vector<Hits> SearchAll(const VectorIndex& index, const Dataset& d,
                            const VectorSearchOptions& options, int threads) {
  std::vector<Hits> out(d.query_keys.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < out.size();) {
      auto hits = index.Search(d.query(i), options);
      if (!hits.ok()) {
        std::cerr << "search failed: " << hits.status().ToString() << "\n";
        std::exit(1);
      }
      out[i] = std::move(hits).value();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return out;
}

double Recall(const std::vector<Hits>& found, const std::vector<Hits>& truth, size_t k) {
  double sum = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    if (truth[q].empty()) {
      sum += 1;
      continue;
    }
    const float kth = truth[q].back().score;
    size_t good = 0;
    for (const VectorHit& h : found[q]) good += h.score >= kth ? 1 : 0;
    sum += static_cast<double>(std::min(good, truth[q].size())) /
           static_cast<double>(std::min(k, truth[q].size()));
  }
  return truth.empty() ? 0 : sum / static_cast<double>(truth.size());
}

// Collects queries per second per benchmark name, by wall time and by CPU
// time (on a shared machine the second is the steadier); passes everything
// on to the console reporter (on stderr).
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  explicit CollectingReporter(OutputOptions options) : ConsoleReporter(options) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred || r.real_accumulated_time <= 0 ||
          r.cpu_accumulated_time <= 0) {
        continue;
      }
      const double n = static_cast<double>(r.iterations);
      wall_[r.run_name.function_name].push_back(n / r.real_accumulated_time);
      cpu_[r.run_name.function_name].push_back(n / r.cpu_accumulated_time);
    }
  }
  // Medians over repetitions; 0 when the benchmark did not run.
  double WallQps(const std::string& name) const { return Median(wall_, name); }
  double CpuQps(const std::string& name) const { return Median(cpu_, name); }

 private:
  using Samples = std::map<std::string, std::vector<double>>;
  static double Median(const Samples& samples, const std::string& name) {
    auto it = samples.find(name);
    if (it == samples.end()) return 0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  Samples wall_;
  Samples cpu_;
};

// One query per iteration, `passes` times over the held-out queries (a
// fixed count: a single slow first query must not end the measurement).
void RegisterSearch(const std::string& name, const VectorIndex* index, const Dataset* d,
                    VectorSearchOptions options, size_t passes) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [index, d, options](benchmark::State& state) {
                                 size_t q = 0;
                                 for (auto _ : state) {
                                   auto hits = index->Search(d->query(q), options);
                                   benchmark::DoNotOptimize(hits);
                                   if (++q == d->query_keys.size()) q = 0;
                                 }
                                 state.SetItemsProcessed(state.iterations());
                               })
      ->Iterations(static_cast<benchmark::IterationCount>(passes * d->query_keys.size()))
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

long PeakRssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
  }
  return 0;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

int Run(int argc, char** argv) {
  Flags flags;
  if (Status s = ParseFlags(&argc, argv, &flags); !s.ok()) {
    std::cerr << "vector_bench: " << s.message() << "\n";
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  Dataset d;
  auto t0 = std::chrono::steady_clock::now();
  if (!flags.db.empty()) {
    Status s = ReadDatabase(flags.db, flags.model, &d.dim, &d.keys, &d.rows);
    if (!s.ok()) {
      std::cerr << "vector_bench: " << s.ToString() << "\n";
      return 1;
    }
    d.source = "model `" + flags.model + "` from " + flags.db;
  } else {
    d.dim = flags.dim;
    Synthetic(flags.synthetic, flags.dim, &d.keys, &d.rows);
    d.source = "synthetic clustered vectors (seeded)";
  }
  std::cerr << "vector_bench: " << d.keys.size() << " vectors of dimension " << d.dim << " read in "
            << Fixed(Seconds(t0), 1) << " s\n";
  HoldOut(flags.queries, &d);
  if (d.keys.empty() || d.query_keys.empty()) {
    std::cerr << "vector_bench: too few vectors\n";
    return 1;
  }

  // Exact: the baseline and the ground truth.
  t0 = std::chrono::steady_clock::now();
  ExactIndex exact(d.dim);
  for (size_t i = 0; i < d.keys.size(); ++i) {
    Status s = exact.Add(d.keys[i], std::span<const float>(d.rows).subspan(i * d.dim, d.dim));
    if (!s.ok()) {
      std::cerr << "vector_bench: " << s.ToString() << "\n";
      return 1;
    }
  }
  const double exact_build = Seconds(t0);
  VectorSearchOptions exact_options;
  exact_options.k = flags.k;
  t0 = std::chrono::steady_clock::now();
  const std::vector<Hits> truth = SearchAll(exact, d, exact_options, flags.threads);
  std::cerr << "vector_bench: ground truth in " << Fixed(Seconds(t0), 1) << " s\n";

  // HNSW.
  HnswOptions hopts;
  hopts.m = flags.m;
  hopts.ef_construction = flags.ef_construction;
  hopts.initial_capacity = d.keys.size();
  HnswIndex hnsw(d.dim, hopts);
  t0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  if (Status s = hnsw.AddBatch(d.keys, d.rows, flags.threads); !s.ok()) {
    std::cerr << "vector_bench: " << s.ToString() << "\n";
    return 1;
  }
  const double hnsw_build = Seconds(t0);
  const double hnsw_build_cpu = CpuSeconds() - cpu0;
  std::cerr << "vector_bench: HNSW built in " << Fixed(hnsw_build, 1) << " s\n";

  std::vector<double> recalls;
  for (size_t ef : flags.efs) {
    VectorSearchOptions o;
    o.k = flags.k;
    o.ef = ef;
    recalls.push_back(Recall(SearchAll(hnsw, d, o, flags.threads), truth, flags.k));
  }

  // Persistence.
  const std::string path = flags.index_dir + "/vector_bench." + std::to_string(getpid()) + ".fgvec";
  t0 = std::chrono::steady_clock::now();
  if (Status s = hnsw.Save(path, "bench", 1); !s.ok()) {
    std::cerr << "vector_bench: " << s.ToString() << "\n";
    return 1;
  }
  const double save_s = Seconds(t0);
  struct stat st;
  const double file_mb = ::stat(path.c_str(), &st) == 0 ? st.st_size / 1e6 : 0;
  t0 = std::chrono::steady_clock::now();
  auto loaded = HnswIndex::Load(path, hopts, nullptr);
  const double load_s = Seconds(t0);
  ::unlink(path.c_str());
  if (!loaded.ok()) {
    std::cerr << "vector_bench: " << loaded.status().ToString() << "\n";
    return 1;
  }
  bool same = true;
  {
    VectorSearchOptions o;
    o.k = flags.k;
    for (size_t q = 0; q < std::min<size_t>(100, d.query_keys.size()) && same; ++q) {
      auto a = hnsw.Search(d.query(q), o);
      auto b = (*loaded)->Search(d.query(q), o);
      same =
          a.ok() && b.ok() && a->size() == b->size() &&
          std::equal(a->begin(), a->end(), b->begin(), [](const VectorHit& x, const VectorHit& y) {
            return x.key == y.key && x.score == y.score;
          });
    }
  }
  loaded->reset();

  // Queries per second, one thread.
  RegisterSearch("exact", &exact, &d, exact_options, 1);
  for (size_t ef : flags.efs) {
    VectorSearchOptions o;
    o.k = flags.k;
    o.ef = ef;
    RegisterSearch("hnsw_ef" + std::to_string(ef), &hnsw, &d, o, 5);
  }
  CollectingReporter reporter(isatty(STDERR_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
                                                    : benchmark::ConsoleReporter::OO_Tabular);
  reporter.SetOutputStream(&std::cerr);
  reporter.SetErrorStream(&std::cerr);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  // The report.
  const double exact_wall = reporter.WallQps("exact");
  const double exact_cpu = reporter.CpuQps("exact");
  std::cout << "### Vector search: " << d.keys.size() << " vectors of dimension " << d.dim << ", "
            << d.query_keys.size() << " held-out queries, k=" << flags.k << "\n\n"
            << "Vectors: " << d.source << ". Machine: " << CpuModel() << ", "
            << std::thread::hardware_concurrency() << " hardware threads.\n\n"
            << "| index | build (wall) | build (CPU) | threads | file | save | load | reloaded "
               "answers |\n"
            << "|---|---:|---:|---:|---:|---:|---:|---|\n"
            << "| exact (baseline) | " << Fixed(exact_build, 2) << " s | - | 1 | - | - | - | - |\n"
            << "| HNSW m=" << flags.m << " ef_construction=" << flags.ef_construction << " | "
            << Fixed(hnsw_build, 1) << " s | " << Fixed(hnsw_build_cpu, 1) << " s | "
            << flags.threads << " | " << Fixed(file_mb, 1) << " MB | " << Fixed(save_s, 2)
            << " s | " << Fixed(load_s, 2) << " s | " << (same ? "identical" : "DIFFERENT")
            << " |\n\n"
            << "| search | recall@" << flags.k
            << " | QPS, 1 thread (wall) | QPS, 1 thread (CPU) | vs exact (CPU) |\n"
            << "|---|---:|---:|---:|---:|\n"
            << "| exact (baseline) | 1.0000 | " << Fixed(exact_wall, 1) << " | "
            << Fixed(exact_cpu, 1) << " | 1x |\n";
  for (size_t i = 0; i < flags.efs.size(); ++i) {
    const std::string name = "hnsw_ef" + std::to_string(flags.efs[i]);
    const double cpu = reporter.CpuQps(name);
    std::cout << "| HNSW ef=" << flags.efs[i] << " | " << Fixed(recalls[i], 4) << " | "
              << Fixed(reporter.WallQps(name), 0) << " | " << Fixed(cpu, 0) << " | "
              << (exact_cpu > 0 ? Fixed(cpu / exact_cpu, cpu < 10 * exact_cpu ? 1 : 0) + "x"
                                : std::string("-"))
              << " |\n";
  }
  std::cout << "\nPeak RSS " << PeakRssMb() << " MB. Recall counts a hit as found when it scores"
            << " at least the k-th exact score (ties count).\n";
  return same ? 0 : 1;
}

}  // namespace
}  // namespace ferrograph

int main(int argc, char** argv) { return ferrograph::Run(argc, argv); }
