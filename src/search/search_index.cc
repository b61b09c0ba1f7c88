#include "search/search_index.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "embed/tokenize.h"
#include "hash/blake3_hasher.h"

namespace ferrograph {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Texts per embedding batch (and per vectors-table transaction).
constexpr size_t kEmbedBatch = 512;

// Embeds `jobs` with one embedder per thread (the hash embedder is cheap to
// build and pure), or with `shared` alone.
Status EmbedAll(const EmbedderSpec& spec, Embedder& shared, std::vector<EmbedJob>& jobs,
                int threads, std::vector<float>* rows) {
  const size_t dim = static_cast<size_t>(shared.dim());
  rows->assign(jobs.size() * dim, 0.0f);
  auto run = [&](Embedder& e, size_t begin, size_t end) -> Status {
    std::vector<std::string> batch;
    for (size_t i = begin; i < end; i += kEmbedBatch) {
      size_t n = std::min(kEmbedBatch, end - i);
      batch.clear();
      for (size_t j = 0; j < n; ++j) batch.push_back(std::move(jobs[i + j].text));
      FG_ASSIGN_OR_RETURN(std::vector<float> v, e.Embed(batch));
      if (v.size() != n * dim)
        return Status::Internal("embedder " + e.model_id() + " returned " +
                                std::to_string(v.size()) + " floats for " + std::to_string(n) +
                                " texts of dimension " + std::to_string(dim));
      std::copy(v.begin(), v.end(), rows->begin() + static_cast<std::ptrdiff_t>(i * dim));
    }
    return Status::OK();
  };
  if (spec.kind != "hash" || threads <= 1 || jobs.size() < 4 * kEmbedBatch)
    return run(shared, 0, jobs.size());
  size_t per = (jobs.size() + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  std::vector<Status> results(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    size_t begin = std::min(jobs.size(), static_cast<size_t>(t) * per);
    size_t end = std::min(jobs.size(), begin + per);
    pool.emplace_back([&, t, begin, end] {
      Result<std::unique_ptr<Embedder>> e = MakeEmbedder(spec);
      results[static_cast<size_t>(t)] = e.ok() ? run(**e, begin, end) : e.status();
    });
  }
  for (std::thread& th : pool) th.join();
  for (const Status& s : results) FG_RETURN_IF_ERROR(s);
  return Status::OK();
}

}  // namespace

std::string LexicalIdentifiers(std::string_view name, std::string_view signature) {
  // Whole identifiers are indexed by the other columns already; this one
  // holds the sub-tokens of the multi-part ones, so "unicode" finds
  // `ClassUnicode` and `parse_unicode_class`.
  std::string out;
  auto add = [&](std::string_view text) {
    for (size_t i = 0; i < text.size();) {
      auto ident = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || static_cast<unsigned char>(c) >= 0x80;
      };
      if (!ident(text[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < text.size() && ident(text[j])) ++j;
      std::vector<std::string> parts = SplitIdentifier(text.substr(i, j - i));
      if (parts.size() > 1) {
        for (const std::string& p : parts) {
          if (!out.empty()) out.push_back(' ');
          out += p;
        }
      }
      i = j;
    }
  };
  add(name);
  add(signature);
  return out;
}

std::string VectorIndexPath(const std::string& db_path, const std::string& model_id) {
  ContentHash h = HashBytes(model_id);
  return db_path + ".vec-" + h.str().substr(0, 16) + ".hnsw";
}

Result<std::vector<std::string>> ConfiguredEmbedders(Store& store) {
  FG_ASSIGN_OR_RETURN(std::optional<std::string> text, store.GetMeta("embedders"));
  if (!text) return std::vector<std::string>{"hash"};
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  if (!j.is_array())
    return Status::Corruption(store.path() + ": meta 'embedders' is not a JSON array: " + *text);
  return out;
}

Result<std::unique_ptr<HnswIndex>> SyncVectorIndex(Store& store, const ModelRecord& model,
                                                   const std::string& db_path, bool save,
                                                   std::string* how,
                                                   const SearchProgress& progress) {
  FG_ASSIGN_OR_RETURN(VectorSetState state, store.VectorState(model.key));
  const std::string path = VectorIndexPath(db_path, model.model_id);
  HnswOptions options;
  VectorIndexHeader header;
  std::unique_ptr<HnswIndex> index;
  std::string why;
  Result<std::unique_ptr<HnswIndex>> loaded = HnswIndex::Load(path, options, &header);
  if (loaded.ok()) {
    if (header.model_id != model.model_id || header.dim != model.dim) {
      why = "it was built for another model";
    } else if (static_cast<int64_t>(header.generation) > state.max_id ||
               static_cast<int64_t>(header.count) > state.count) {
      why = "the database lost vectors since it was built";
    } else {
      index = std::move(*loaded);
    }
  } else if (loaded.status().code() == StatusCode::kNotFound) {
    why = "missing";
  } else {
    why = loaded.status().message();
  }

  int64_t added = 0;
  if (index) {
    if (static_cast<int64_t>(header.generation) == state.max_id &&
        static_cast<int64_t>(index->size()) == state.count) {
      *how = "fresh";
      return index;
    }
    Status s = store.ForEachVector(model.key, static_cast<int64_t>(header.generation),
                                   [&](int64_t id, std::span<const float> v) {
                                     ++added;
                                     return index->Add(static_cast<uint64_t>(id), v);
                                   });
    FG_RETURN_IF_ERROR(s);
    if (static_cast<int64_t>(index->size()) != state.count) {
      why = "its vectors no longer match the database (gc)";
      index.reset();
    } else {
      *how = "updated (+" + std::to_string(added) + ")";
    }
  }
  const bool rebuilt = !index;
  if (!index) {
    // Rebuild: every vector, inserted in parallel.
    index = std::make_unique<HnswIndex>(model.dim, options);
    std::vector<uint64_t> keys;
    std::vector<float> rows;
    keys.reserve(static_cast<size_t>(state.count));
    rows.reserve(static_cast<size_t>(state.count) * static_cast<size_t>(model.dim));
    FG_RETURN_IF_ERROR(store.ForEachVector(model.key, 0, [&](int64_t id, std::span<const float> v) {
      keys.push_back(static_cast<uint64_t>(id));
      rows.insert(rows.end(), v.begin(), v.end());
      return Status::OK();
    }));
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::string stage = "vector index of " + model.model_id;
    std::function<void(size_t)> on_added;
    if (progress) on_added = [&](size_t done) { progress(stage, done, keys.size()); };
    FG_RETURN_IF_ERROR(index->AddBatch(keys, rows, threads, on_added));
    *how = "rebuilt (" + why + ")";
  }
  // A few added vectors are kept in memory only: the file is rewritten
  // whole, and the next load adds them again cheaply.
  if (save && (rebuilt || added > SidecarSlack(state.count))) {
    Status s = index->Save(path, model.model_id, static_cast<uint64_t>(state.max_id));
    if (!s.ok()) *how += "; not saved: " + s.message();
  }
  return index;
}

Result<SearchIndexReport> UpdateSearchIndex(Store& store, const std::string& db_path,
                                            const std::vector<EmbedderSpec>& embedders, int threads,
                                            const SearchProgress& progress) {
  SearchIndexReport report;
  if (progress) progress("lexical index", 0, 0);
  auto start = std::chrono::steady_clock::now();
  FG_ASSIGN_OR_RETURN(report.lexical_rows, store.CatchUpLexical(LexicalIdentifiers));
  report.lexical_seconds = SecondsSince(start);

  for (const EmbedderSpec& spec : embedders) {
    ModelIndexReport mr;
    start = std::chrono::steady_clock::now();
    FG_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> embedder, MakeEmbedder(spec));
    if (embedder->dim() <= 0) {
      // A remote model learns its dimension from a first answer: when that
      // failed, ask again to report why.
      Result<std::vector<float>> probe = embedder->Embed({"dimension probe"});
      if (!probe.ok()) return probe.status().WithContext("embedder " + embedder->model_id());
      if (embedder->dim() <= 0)
        return Status::Internal("embedder " + embedder->model_id() + " reports no dimension");
    }
    FG_ASSIGN_OR_RETURN(ModelRecord model,
                        store.EnsureModel(embedder->model_id(), embedder->dim(), spec.text));
    mr.model_id = model.model_id;
    // Node rows up to the mark have vectors of this model (a run that
    // embedded them all set it): only newer rows are looked at.
    const std::string mark_key = "embedded_rowid:" + std::to_string(model.key);
    FG_ASSIGN_OR_RETURN(std::optional<std::string> mark, store.GetMeta(mark_key));
    int64_t after_rowid = mark ? std::atoll(mark->c_str()) : 0;
    int64_t last_rowid = 0;
    FG_ASSIGN_OR_RETURN(
        std::vector<EmbedJob> jobs,
        store.PendingEmbeddings(model.key, kMaxEmbedTextBytes, after_rowid, &last_rowid));
    // Embedded and stored in slices, so that an interruption keeps the work
    // done and memory stays bounded.
    constexpr size_t kSlice = 16384;
    const std::string stage = "embedding with " + model.model_id;
    for (size_t i = 0; i < jobs.size(); i += kSlice) {
      if (progress) progress(stage, i, jobs.size());
      std::vector<EmbedJob> slice(
          std::make_move_iterator(jobs.begin() + static_cast<std::ptrdiff_t>(i)),
          std::make_move_iterator(jobs.begin() +
                                  static_cast<std::ptrdiff_t>(std::min(jobs.size(), i + kSlice))));
      std::vector<ContentHash> hashes;
      for (const EmbedJob& j : slice) {
        hashes.push_back(j.content_hash);
        mr.text_bytes += static_cast<int64_t>(j.text.size());
      }
      std::vector<float> rows;
      FG_RETURN_IF_ERROR(EmbedAll(spec, *embedder, slice, threads, &rows)
                             .WithContext("embedding with " + model.model_id));
      FG_RETURN_IF_ERROR(store.PutVectors(model.key, model.dim, hashes, rows));
      mr.embedded += static_cast<int64_t>(slice.size());
    }
    if (last_rowid != after_rowid)
      FG_RETURN_IF_ERROR(store.SetMeta(mark_key, std::to_string(last_rowid)));
    mr.embed_seconds = SecondsSince(start);
    start = std::chrono::steady_clock::now();
    FG_ASSIGN_OR_RETURN(VectorSetState state, store.VectorState(model.key));
    Result<VectorIndexHeader> info =
        HnswIndex::ReadHeader(VectorIndexPath(db_path, model.model_id));
    int64_t behind = info.ok() ? state.count - static_cast<int64_t>(info->count) : -1;
    if (info.ok() && info->model_id == model.model_id && info->dim == model.dim &&
        static_cast<int64_t>(info->generation) <= state.max_id && behind >= 0 &&
        behind <= SidecarSlack(state.count)) {
      // A few vectors behind: not worth rewriting the file (it is read
      // whole); a search adds them in memory when it loads it.
      mr.sidecar =
          behind == 0 ? "fresh"
                      : "deferred (+" + std::to_string(behind) + ", added in memory when searched)";
      mr.vectors = state.count;
    } else {
      FG_ASSIGN_OR_RETURN(
          std::unique_ptr<HnswIndex> index,
          SyncVectorIndex(store, model, db_path, /*save=*/true, &mr.sidecar, progress));
      mr.vectors = static_cast<int64_t>(index->size());
    }
    mr.sidecar_seconds = SecondsSince(start);
    report.models.push_back(std::move(mr));
  }
  return report;
}

}  // namespace ferrograph
