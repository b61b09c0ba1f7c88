// Engine: the search indexes (kept current by Index), search, gc and the
// fastText training texts.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "embed/fasttext_embedder.h"
#include "ferrograph/engine.h"
#include "search/search_index.h"
#include "search/searcher.h"
#include "store/store.h"

namespace ferrograph {

namespace fs = std::filesystem;

namespace {

// Parses spec texts; "none" alone means no embedders.
Result<std::vector<EmbedderSpec>> ParseSpecs(const std::vector<std::string>& texts) {
  std::vector<EmbedderSpec> out;
  if (texts.size() == 1 && texts[0] == "none") return out;
  std::set<std::string> seen;
  for (const std::string& t : texts) {
    if (t == "none")
      return Status::InvalidArgument("embedder `none` cannot be combined with others");
    FG_ASSIGN_OR_RETURN(EmbedderSpec spec, ParseEmbedderSpec(t));
    if (seen.insert(spec.text).second) out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace

Status Engine::UpdateSearch(const IndexOptions& options, IndexReport* report) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> texts = options.embedders;
  if (texts.empty()) {
    FG_ASSIGN_OR_RETURN(texts, ConfiguredEmbedders(*store_));
    if (texts.empty()) texts = {"none"};
  }
  FG_ASSIGN_OR_RETURN(std::vector<EmbedderSpec> specs, ParseSpecs(texts));
  nlohmann::json configured = nlohmann::json::array();
  for (const EmbedderSpec& s : specs) configured.push_back(s.text);
  FG_RETURN_IF_ERROR(store_->SetMeta("embedders", configured.dump()));
  int threads = options.jobs > 0
                    ? options.jobs
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  SearchProgress progress;
  if (options.on_progress) {
    // At most every 100 ms, and whenever the stage changes.
    progress = [&options, last = std::chrono::steady_clock::time_point(), stage = std::string()](
                   const std::string& now_stage, uint64_t done, uint64_t total) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (now_stage == stage && now - last < std::chrono::milliseconds(100)) return;
      last = now;
      stage = now_stage;
      IndexProgress p;
      p.stage = now_stage;
      p.stage_done = done;
      p.stage_total = total;
      options.on_progress(p);
    };
  }
  FG_ASSIGN_OR_RETURN(SearchIndexReport sr,
                      UpdateSearchIndex(*store_, store_->path(), specs, threads, progress));
  report->lexical_rows = sr.lexical_rows;
  for (const ModelIndexReport& m : sr.models) {
    IndexReport::Embedding e;
    e.model_id = m.model_id;
    e.embedded = m.embedded;
    e.vectors = m.vectors;
    e.text_bytes = m.text_bytes;
    e.embed_seconds = m.embed_seconds;
    e.vector_index = m.sidecar;
    e.vector_index_seconds = m.sidecar_seconds;
    report->embeddings.push_back(std::move(e));
  }
  report->search_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::OK();
}

Result<std::vector<NodeId>> Engine::ImplementorSet(const std::string& trait) {
  FG_ASSIGN_OR_RETURN(std::vector<Node> found, Find(trait, 50));
  std::vector<Node> traits;
  for (Node& n : found)
    if (n.kind == NodeKind::kTrait || n.kind == NodeKind::kExternal) traits.push_back(std::move(n));
  if (traits.empty()) return Status::NotFound("--implements " + trait + ": no such trait");
  // Every crate has its own external node of a path: those count as one.
  std::set<std::string> paths;
  for (const Node& n : traits) paths.insert(n.path);
  if (paths.size() > 1) {
    std::string list;
    for (const std::string& p : paths) list += "\n  " + p;
    return Status::Ambiguous("--implements " + trait + " matches several traits:" + list);
  }
  std::set<NodeId> out;
  for (const Node& t : traits) {
    FG_ASSIGN_OR_RETURN(std::vector<Edge> impls, store_->EdgesTo(t.id, EdgeKind::kImplements));
    for (const Edge& e : impls) {
      out.insert(e.src);
      FG_ASSIGN_OR_RETURN(std::optional<Node> src, store_->GetNode(e.src));
      if (!src || src->kind != NodeKind::kImpl) continue;  // a type deriving the trait
      FG_ASSIGN_OR_RETURN(std::vector<Edge> self_types,
                          store_->EdgesFrom(e.src, EdgeKind::kImplFor));
      for (const Edge& s : self_types) out.insert(s.dst);
      FG_ASSIGN_OR_RETURN(NodeDetails d, Describe(e.src));
      for (const Node& child : d.children) out.insert(child.id);
    }
  }
  return std::vector<NodeId>(out.begin(), out.end());
}

Result<SearchResponse> Engine::Search(const SearchRequest& request) {
  std::vector<NodeId> implementors;
  if (!request.implements.empty()) {
    FG_ASSIGN_OR_RETURN(implementors, ImplementorSet(request.implements));
  }
  if (!searcher_) searcher_ = std::make_unique<Searcher>(*store_, store_->path(), true);
  if (request.as_of || !store_->read_version())
    return searcher_->Search(request, request.implements.empty() ? nullptr : &implementors);
  SearchRequest pinned = request;  // the engine answers as of a pinned version
  pinned.as_of = store_->read_version();
  return searcher_->Search(pinned, pinned.implements.empty() ? nullptr : &implementors);
}

Status Engine::WarmSearch(const std::atomic<bool>& stop) {
  if (!searcher_) searcher_ = std::make_unique<Searcher>(*store_, store_->path(), true);
  return searcher_->Warm(stop);
}

Result<GcResult> Engine::CollectGarbage() {
  FG_ASSIGN_OR_RETURN(std::vector<std::string> texts, ConfiguredEmbedders(*store_));
  std::vector<std::string> keep;
  for (const std::string& t : texts) {
    if (t == "none") continue;
    FG_ASSIGN_OR_RETURN(EmbedderSpec spec, ParseEmbedderSpec(t));
    Result<std::unique_ptr<Embedder>> e = MakeEmbedder(spec);
    // A configured model that cannot be built now (a moved model file) keeps
    // nothing: say so rather than silently dropping its vectors.
    if (!e.ok())
      return e.status().WithContext("gc: configured embedder " + t +
                                    " is unavailable; fix it or re-index with other embedders");
    keep.push_back((*e)->model_id());
  }
  FG_ASSIGN_OR_RETURN(std::vector<ModelRecord> before, store_->Models());
  FG_ASSIGN_OR_RETURN(GcReport r, store_->CollectGarbage(keep));
  GcResult out;
  out.vectors_removed = r.vectors_removed;
  out.models_removed = r.models_removed;
  for (const ModelRecord& m : before) {
    if (std::find(keep.begin(), keep.end(), m.model_id) != keep.end()) continue;
    std::string path = VectorIndexPath(store_->path(), m.model_id);
    std::error_code ec;
    if (fs::remove(path, ec)) out.files_removed.push_back(path);
  }
  searcher_.reset();  // its loaded indexes may hold dropped vectors
  return out;
}

Result<int64_t> Engine::TrainEmbeddingModel(const ModelTrainOptions& options) {
  // Every current searchable item's docs and source, once per content
  // (TrainFastText turns each into a line of code words).
  FG_ASSIGN_OR_RETURN(std::vector<EmbedJob> jobs,
                      store_->PendingEmbeddings(/*model=*/-1, kMaxEmbedTextBytes));
  std::vector<std::string> docs;
  docs.reserve(jobs.size());
  for (EmbedJob& j : jobs) docs.push_back(std::move(j.text));
  FastTextTrainOptions fo;
  fo.dim = options.dim;
  fo.epoch = options.epochs;
  FG_RETURN_IF_ERROR(TrainFastText(docs, fo, options.out_path));
  return static_cast<int64_t>(docs.size());
}

}  // namespace ferrograph
