#include "search/searcher.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "embed/tokenize.h"
#include "resolve/cfg.h"
#include "search/search_index.h"

namespace ferrograph {

std::string_view SearchModeName(SearchMode mode) {
  switch (mode) {
    case SearchMode::kLexical: return "lexical";
    case SearchMode::kVector: return "vector";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "hybrid";
}

std::string_view TestCodeName(TestCode tests) {
  switch (tests) {
    case TestCode::kDemote: return "demote";
    case TestCode::kInclude: return "include";
    case TestCode::kExclude: return "exclude";
  }
  return "demote";
}

std::optional<TestCode> ParseTestCode(std::string_view name) {
  for (TestCode t : {TestCode::kDemote, TestCode::kInclude, TestCode::kExclude})
    if (TestCodeName(t) == name) return t;
  return std::nullopt;
}

std::optional<SearchMode> ParseSearchMode(std::string_view name) {
  if (name == "lexical") return SearchMode::kLexical;
  if (name == "vector") return SearchMode::kVector;
  if (name == "hybrid") return SearchMode::kHybrid;
  return std::nullopt;
}

namespace {

// Reciprocal-rank fusion constant (Cormack et al.): damps the head of each
// list so that agreement between lists outweighs one list's order.
constexpr double kRrfK = 60;
// Personalized PageRank: restart probability, iterations, seeds, and how
// much the stationary mass adds to a fused score.
constexpr double kPprRestart = 0.3;
constexpr int kPprIterations = 20;
constexpr size_t kPprSeeds = 10;
constexpr double kPprWeight = 0.05;
// Weights of the two lists in the fusion. Lexical matching is the stronger
// signal on natural-language questions about code (bench/RESULTS.md,
// retrieval quality: these were chosen there, on 8 crates); the vector list
// breaks its ties and adds what shares no word with the query.
constexpr double kLexicalWeight = 1.0;
constexpr double kVectorWeight = 0.2;
// Vector hits at or below this similarity are dropped (see Search).
constexpr double kMinSimilarity = 1e-6;

// Test code's score in hybrid search (TestCode::kDemote): halved, so that
// tests and mocks that share a query's words with the code they exercise
// (`spawn_blocking_when_paused`, a cfg(test) `mocks::spawn_blocking`) come
// after it.
constexpr double kTestCodeWeight = 0.5;

const std::unordered_set<std::string_view>& StopWords() {
  static const std::unordered_set<std::string_view> words = {
      "a",    "an",   "and",  "are",  "as",   "at",   "be",    "by",    "can",   "do",
      "does", "for",  "from", "has",  "have", "how",  "i",     "if",    "in",    "into",
      "is",   "it",   "its",  "of",   "on",   "or",   "that",  "the",   "their", "then",
      "this", "to",   "was",  "we",   "what", "when", "where", "which", "while", "who",
      "will", "with", "you",  "your", "code", "find", "there", "these", "those", "all"};
  return words;
}

// Which of a node's fields hold one of the query's words (for `why`).
std::string MatchedFields(const Node& n, const std::vector<std::string>& words) {
  auto lower = [](std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  };
  std::string name = lower(n.name), path = lower(n.path), sig = lower(n.signature),
              docs = lower(n.docs);
  std::string out;
  auto check = [&](const std::string& field, const char* label) {
    for (const std::string& w : words) {
      // Porter stems ("parsing" -> "pars"): a prefix of the word is enough.
      std::string stem = w.substr(0, std::min<size_t>(w.size(), 5));
      if (field.find(stem) != std::string::npos) {
        if (!out.empty()) out += ", ";
        out += label;
        return;
      }
    }
  };
  check(name, "name");
  check(sig, "signature");
  check(docs, "docs");
  check(path, "path");
  return out;
}

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// What makes `n` test code, as a reason ("#[cfg(test)] on a::tests"), or
// "" when nothing does: a cfg that requires `test`, or an attribute whose
// name ends in `test` or `bench` as a path segment (#[test],
// #[tokio::test(flavor = "multi_thread")]).
std::string TestMark(const Node& n) {
  for (const std::string& cfg : n.cfgs)
    if (CfgRequires(cfg, "test")) return "#[cfg(" + cfg + ")] on " + n.path;
  for (const std::string& attr : n.attrs) {
    std::string_view name = attr;
    name = name.substr(0, std::min(name.find('('), name.find('=')));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    std::string_view last = name;
    if (size_t p = last.rfind("::"); p != std::string_view::npos) last = last.substr(p + 2);
    if (last == "test" || last == "bench") return "#[" + std::string(name) + "] on " + n.path;
  }
  return "";
}

// Whether the query asks about tests, so that test code keeps its rank.
bool AboutTests(const std::vector<std::string>& words) {
  static const std::unordered_set<std::string_view> kWords = {
      "test",       "tests",   "testing",  "tested", "unittest", "mock",
      "mocks",      "mocked",  "mocking",  "bench",  "benches",  "benchmark",
      "benchmarks", "fixture", "fixtures", "loom",   "proptest", "quickcheck"};
  for (const std::string& w : words)
    if (kWords.count(w)) return true;
  return false;
}

// Whether `query` writes `name` as an identifier (`spawn_blocking_when_paused`,
// `MockClock`): a query that names an item asks for it, test or not. A plain
// word ("spawn") is prose, not a name.
bool NamedInQuery(std::string_view name, std::string_view query) {
  auto ident = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  const bool looks_like_code = std::any_of(
      name.begin(), name.end(), [](char c) { return c == '_' || (c >= 'A' && c <= 'Z'); });
  if (name.empty() || !looks_like_code) return false;
  for (size_t at = query.find(name); at != std::string_view::npos; at = query.find(name, at + 1)) {
    const size_t end = at + name.size();
    if ((at == 0 || !ident(query[at - 1])) && (end == query.size() || !ident(query[end])))
      return true;
  }
  return false;
}

struct Candidate {
  Node node;
  int lexical_rank = -1;
  double bm25 = 0;
  int vector_rank = -1;
  double similarity = 0;  // the vector hit's inner product with the unit query
  double rrf = 0;
  double ppr = 0;
  double score = 0;
  std::vector<std::string> graph_why;
  bool test_code = false;  // demoted as test code
  std::string test_why;    // why it counts as test code
};

std::string_view Relation(EdgeKind kind, bool outgoing) {
  switch (kind) {
    case EdgeKind::kCalls: return outgoing ? "calls" : "called by";
    case EdgeKind::kUsesType: return outgoing ? "uses" : "used by";
    case EdgeKind::kImplements: return outgoing ? "implements" : "implemented by";
    case EdgeKind::kImplFor: return outgoing ? "impl for" : "has impl";
    case EdgeKind::kContains: return outgoing ? "contains" : "inside";
    default: return KindName(kind);
  }
}

}  // namespace

std::vector<std::string> LexicalQueryWords(std::string_view query) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (std::string& w : CodeWords(query)) {
    if (w.size() < 2 || StopWords().count(w) || !seen.insert(w).second) continue;
    out.push_back(std::move(w));
  }
  return out;
}

Searcher::Searcher(Store& store, std::string db_path, bool can_save)
    : store_(store), db_path_(std::move(db_path)), can_save_(can_save) {}
Searcher::~Searcher() = default;

Result<std::string> Searcher::DefaultSpec() {
  FG_ASSIGN_OR_RETURN(std::vector<std::string> configured, ConfiguredEmbedders(store_));
  return configured.empty() ? std::string() : configured.front();
}

Status Searcher::Warm(const std::atomic<bool>& stop) {
  FG_ASSIGN_OR_RETURN(std::string spec, DefaultSpec());
  if (!spec.empty()) FG_RETURN_IF_ERROR(LoadModel(spec).status());
  if (stop.load()) return Status::OK();
  return store_.WarmLexicalSearch();
}

Result<Searcher::Model*> Searcher::LoadModel(const std::string& spec_text) {
  auto it = models_.find(spec_text);
  if (it != models_.end()) {
    Model& m = *it->second;
    FG_ASSIGN_OR_RETURN(int64_t last, store_.LastVectorId(m.record.key, m.last_vector_id));
    if (last == m.last_vector_id) return &m;
    std::string how;
    FG_ASSIGN_OR_RETURN(m.index, SyncVectorIndex(store_, m.record, db_path_, can_save_, &how));
    m.last_vector_id = last;
    return &m;
  }
  FG_ASSIGN_OR_RETURN(EmbedderSpec spec, ParseEmbedderSpec(spec_text));
  auto m = std::make_unique<Model>();
  FG_ASSIGN_OR_RETURN(m->embedder, MakeEmbedder(spec));
  FG_ASSIGN_OR_RETURN(std::optional<ModelRecord> record, store_.FindModel(m->embedder->model_id()));
  if (!record)
    return Status::NotFound(db_path_ + ": no vectors of model " + m->embedder->model_id() +
                            "; run `ferrograph index ROOT --embedder " + spec_text + "` first");
  m->record = *record;
  FG_ASSIGN_OR_RETURN(VectorSetState state, store_.VectorState(record->key));
  m->last_vector_id = state.max_id;
  std::string how;
  FG_ASSIGN_OR_RETURN(m->index, SyncVectorIndex(store_, m->record, db_path_, can_save_, &how));
  Model* raw = m.get();
  models_[spec_text] = std::move(m);
  return raw;
}

Result<SearchResponse> Searcher::Search(const SearchRequest& request,
                                        const std::vector<NodeId>* implementors) {
  auto start = std::chrono::steady_clock::now();
  if (request.query.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidArgument("search: the query is empty");
  if (request.k < 1 || request.k > 1000)
    return Status::InvalidArgument("search: k must be between 1 and 1000, got " +
                                   std::to_string(request.k));
  for (NodeKind kind : request.kinds)
    if (!IsSearchableKind(kind))
      return Status::InvalidArgument("search: kind " + std::string(KindName(kind)) +
                                     " is not searchable");
  NodeFilter filter;
  filter.kinds = request.kinds;
  filter.crate_name = request.crate_name;
  filter.path_prefix = request.path_prefix;
  filter.nodes = implementors;
  filter.as_of = request.as_of;
  const bool filtered = !filter.kinds.empty() || !filter.crate_name.empty() ||
                        !filter.path_prefix.empty() || filter.nodes || filter.as_of;
  const int pool = std::max(50, 3 * request.k);

  SearchResponse response;
  std::unordered_map<NodeId, Candidate, FixedBytesHash> cands;
  auto candidate = [&](const Node& n) -> Candidate& {
    auto [it, added] = cands.try_emplace(n.id);
    if (added) it->second.node = n;
    return it->second;
  };

  std::vector<std::string> words = CodeWords(request.query);

  // The vector half: the model and, under a filter, the vectors it admits
  // (reads of this connection), then the query's embedding and the kNN
  // search, which touch no database and run on a thread of their own while
  // this one runs the lexical half.
  Model* model = nullptr;
  std::vector<uint64_t> allowed;
  VectorSearchOptions vo;
  vo.k = static_cast<size_t>(pool);
  if (request.mode != SearchMode::kLexical) {
    std::string spec = request.embedder;
    if (spec.empty()) {
      FG_ASSIGN_OR_RETURN(spec, DefaultSpec());
      if (spec.empty() && request.mode == SearchMode::kVector)
        return Status::NotFound(db_path_ +
                                ": no embedder is configured (indexed with --embedder none)");
    }
    Result<Model*> loaded = spec.empty() ? Result<Model*>(nullptr) : LoadModel(spec);
    if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound &&
        request.mode == SearchMode::kHybrid && request.embedder.empty()) {
      // The configured model has no vectors here (the database predates it,
      // as hash-v1 ones do hash-v2): the lexical half still answers.
      response.warning = "vector search skipped: " + loaded.status().message();
    } else {
      FG_ASSIGN_OR_RETURN(model, std::move(loaded));
    }
    if (model != nullptr) {
      response.model_id = model->record.model_id;
      if (filtered) {
        FG_ASSIGN_OR_RETURN(allowed, store_.VectorIdsMatching(model->record.key, filter));
        vo.allowed = &allowed;
      }
      response.vector_strategy =
          !filtered ? "hnsw"
          : allowed.size() <= vo.exact_threshold
              ? "exact over " + std::to_string(allowed.size()) + " candidates"
              : "hnsw, over-fetching for " + std::to_string(allowed.size()) + " candidates";
    }
  }
  auto nearest = [&]() -> Result<std::vector<VectorHit>> {
    FG_ASSIGN_OR_RETURN(std::vector<float> q, model->embedder->Embed({request.query}));
    double norm = 0;
    for (float f : q) norm += static_cast<double>(f) * f;
    if (norm <= 0) return std::vector<VectorHit>();  // no feature of the query is known
    // A unit query: an embedder's vectors need not be unit vectors (hash
    // shortens those of texts with little evidence), and the query's own
    // length would only scale every similarity.
    const float unit = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& f : q) f *= unit;
    return model->index->Search(q, vo);
  };
  std::future<Result<std::vector<VectorHit>>> vector_hits;
  bool both = model != nullptr && request.mode == SearchMode::kHybrid;
  if (both) {
    try {
      vector_hits = std::async(std::launch::async, nearest);
    } catch (const std::system_error&) {
      both = false;  // no thread to be had: the vector half runs after the lexical one
    }
  }

  if (request.mode != SearchMode::kVector) {
    std::vector<std::string> lexical_words = LexicalQueryWords(request.query);
    if (!lexical_words.empty()) {
      FG_ASSIGN_OR_RETURN(std::vector<ScoredNode> hits,
                          store_.LexicalSearch(lexical_words, filter, pool));
      for (size_t i = 0; i < hits.size(); ++i) {
        Candidate& c = candidate(hits[i].node);
        if (c.lexical_rank >= 0) continue;
        c.lexical_rank = static_cast<int>(i);
        c.bm25 = hits[i].score;
      }
    }
  }

  if (model != nullptr) {
    FG_ASSIGN_OR_RETURN(std::vector<VectorHit> hits, both ? vector_hits.get() : nearest());
    // Nearest is not near: a vector that shares no feature with the query
    // (similarity 0, as for a word the code never uses) or points away from
    // it says nothing, and its rank would only add noise to the fusion.
    std::erase_if(hits, [](const VectorHit& h) { return !(h.score > kMinSimilarity); });
    std::vector<uint64_t> hit_ids;
    for (const VectorHit& h : hits) hit_ids.push_back(h.key);
    FG_ASSIGN_OR_RETURN(auto nodes, store_.NodesWithVectors(model->record.key, hit_ids, filter));
    std::unordered_map<uint64_t, std::vector<Node>> by_vector;
    for (auto& [id, n] : nodes) by_vector[id].push_back(std::move(n));
    int rank = 0;
    for (const VectorHit& h : hits) {
      auto it = by_vector.find(h.key);
      if (it == by_vector.end()) continue;
      std::sort(it->second.begin(), it->second.end(),
                [](const Node& a, const Node& b) { return a.path < b.path; });
      for (const Node& n : it->second) {
        Candidate& c = candidate(n);
        if (c.vector_rank >= 0) continue;
        c.vector_rank = rank;
        c.similarity = h.score;
      }
      ++rank;
    }
  }

  for (auto& [id, c] : cands) {
    switch (request.mode) {
      case SearchMode::kLexical: c.score = c.bm25; break;
      case SearchMode::kVector: c.score = c.similarity; break;
      case SearchMode::kHybrid:
        if (c.lexical_rank >= 0) c.rrf += kLexicalWeight / (kRrfK + c.lexical_rank + 1);
        if (c.vector_rank >= 0) c.rrf += kVectorWeight / (kRrfK + c.vector_rank + 1);
        c.score = c.rrf;
        break;
    }
  }

  // Test code (TestCode). Under kExclude it is dropped before the graph
  // boost, so that it neither seeds the boost nor explains it, and the
  // neighbours the boost brings in are checked as they join. Under kDemote
  // it is marked after the boost, lazily: from the best score down, only
  // while a candidate could still reach the top k (a demoted score is never
  // higher), which spares the ancestor walk for most candidates.
  const bool demote = request.tests == TestCode::kDemote && request.mode == SearchMode::kHybrid &&
                      !AboutTests(words);
  const bool exclude = request.tests == TestCode::kExclude;
  auto mark_test_code = [&](const std::vector<NodeId>& ids) -> Status {
    if ((!demote && !exclude) || ids.empty()) return Status::OK();
    FG_ASSIGN_OR_RETURN(auto upward, store_.AttributesUpward(ids, request.as_of));
    for (const auto& [of, n] : upward) {  // nearest first: the node, its container, ...
      auto it = cands.find(of);
      if (it == cands.end() || it->second.test_code) continue;
      std::string why = TestMark(n);
      if (why.empty()) continue;
      if (exclude) {
        cands.erase(it);
      } else if (!NamedInQuery(it->second.node.name, request.query)) {
        it->second.test_code = true;
        it->second.test_why = std::move(why);
      }
    }
    return Status::OK();
  };
  if (exclude) {
    std::vector<NodeId> ids;
    for (const auto& [id, c] : cands) ids.push_back(id);
    FG_RETURN_IF_ERROR(mark_test_code(ids));
  }

  if (request.mode == SearchMode::kHybrid && !cands.empty()) {
    // Graph boost: personalized PageRank from the fused top hits over the
    // hits, their neighbours, and the edges between them (undirected).
    std::vector<NodeId> ids;
    for (const auto& [id, c] : cands) ids.push_back(id);
    std::sort(ids.begin(), ids.end(), [&](const NodeId& a, const NodeId& b) {
      const Candidate &ca = cands.at(a), &cb = cands.at(b);
      return ca.rrf != cb.rrf ? ca.rrf > cb.rrf : ca.node.path < cb.node.path;
    });
    FG_ASSIGN_OR_RETURN(
        std::vector<Edge> edges,
        store_.EdgesTouching(ids,
                             {EdgeKind::kCalls, EdgeKind::kUsesType, EdgeKind::kImplements,
                              EdgeKind::kImplFor, EdgeKind::kContains},
                             request.as_of));
    std::unordered_map<NodeId, size_t, FixedBytesHash> index;
    std::vector<NodeId> nodes;
    auto slot = [&](const NodeId& id) {
      auto [it, added] = index.try_emplace(id, nodes.size());
      if (added) nodes.push_back(id);
      return it->second;
    };
    for (const NodeId& id : ids) slot(id);
    std::vector<std::vector<size_t>> adj;
    for (const Edge& e : edges) {
      if (e.src == e.dst || e.src.IsZero() || e.dst.IsZero()) continue;
      size_t a = slot(e.src), b = slot(e.dst);
      if (adj.size() < nodes.size()) adj.resize(nodes.size());
      adj[a].push_back(b);
      adj[b].push_back(a);
    }
    adj.resize(nodes.size());
    std::vector<double> p(nodes.size(), 0.0), r, next(nodes.size());
    double seed_mass = 0;
    for (size_t i = 0; i < std::min(kPprSeeds, ids.size()); ++i) {
      p[i] = cands.at(ids[i]).rrf;
      seed_mass += p[i];
    }
    if (seed_mass > 0) {
      for (double& v : p) v /= seed_mass;
      r = p;
      for (int it = 0; it < kPprIterations; ++it) {
        std::fill(next.begin(), next.end(), 0.0);
        double dangling = 0;
        for (size_t u = 0; u < nodes.size(); ++u) {
          if (adj[u].empty()) {
            dangling += r[u];
            continue;
          }
          double share = (1 - kPprRestart) * r[u] / static_cast<double>(adj[u].size());
          for (size_t v : adj[u]) next[v] += share;
        }
        for (size_t u = 0; u < nodes.size(); ++u)
          next[u] += (kPprRestart + (1 - kPprRestart) * dangling) * p[u];
        r.swap(next);
      }
      // Neighbours that are not hits yet may join when the filter admits them.
      std::vector<NodeId> fresh;
      for (size_t u = ids.size(); u < nodes.size(); ++u)
        if (r[u] * kPprWeight > kVectorWeight / (kRrfK + pool)) fresh.push_back(nodes[u]);
      if (!fresh.empty()) {
        FG_ASSIGN_OR_RETURN(std::vector<Node> admitted, store_.NodesMatching(fresh, filter));
        std::vector<NodeId> joined;
        for (const Node& n : admitted) {
          candidate(n);
          joined.push_back(n.id);
        }
        if (exclude) FG_RETURN_IF_ERROR(mark_test_code(joined));
      }
      // A node's boost is the mass that reaches it over edges, not the
      // restart mass of its own seed (a hit is not boosted for being a hit),
      // and it fades for the strongest seeds: the boost brings in neighbours
      // and lifts weak hits, it does not reorder the strong ones.
      double p_max = *std::max_element(p.begin(), p.end());
      for (size_t u = 0; u < nodes.size(); ++u) {
        auto it = cands.find(nodes[u]);
        if (it == cands.end()) continue;
        double linked = std::max(0.0, r[u] - kPprRestart * p[u]) * (1 - p[u] / p_max);
        it->second.ppr = linked;
        it->second.score += kPprWeight * linked;
      }
      // Explain the boost by the strongest linked seeds.
      for (const Edge& e : edges) {
        if (e.src == e.dst) continue;
        for (bool outgoing : {true, false}) {
          const NodeId& self = outgoing ? e.src : e.dst;
          const NodeId& other = outgoing ? e.dst : e.src;
          auto si = cands.find(self);
          auto oi = cands.find(other);
          if (si == cands.end() || oi == cands.end() || oi->second.rrf <= 0) continue;
          if (si->second.graph_why.size() >= 2) continue;
          std::string text = std::string(Relation(e.kind, outgoing)) + " " + oi->second.node.path;
          if (std::find(si->second.graph_why.begin(), si->second.graph_why.end(), text) ==
              si->second.graph_why.end())
            si->second.graph_why.push_back(std::move(text));
        }
      }
    }
  }

  std::vector<Candidate*> ranked;
  for (auto& [id, c] : cands) ranked.push_back(&c);
  auto by_score = [](const Candidate* a, const Candidate* b) {
    if (a->score != b->score) return a->score > b->score;
    return a->node.path != b->node.path ? a->node.path < b->node.path : a->node.id < b->node.id;
  };
  std::sort(ranked.begin(), ranked.end(), by_score);
  if (demote) {
    const size_t k = static_cast<size_t>(request.k);
    const size_t batch = std::max<size_t>(k, 16);
    size_t checked = 0;
    std::vector<double> best;  // the final scores of the checked candidates
    while (checked < ranked.size()) {
      if (best.size() >= k) {
        std::nth_element(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(k - 1),
                         best.end(), std::greater<>());
        if (ranked[checked]->score < best[k - 1]) break;  // none below can reach the top k
      }
      const size_t end = std::min(ranked.size(), checked + batch);
      std::vector<NodeId> ids;
      for (size_t i = checked; i < end; ++i) ids.push_back(ranked[i]->node.id);
      FG_RETURN_IF_ERROR(mark_test_code(ids));
      for (size_t i = checked; i < end; ++i) {
        if (ranked[i]->test_code) ranked[i]->score *= kTestCodeWeight;
        best.push_back(ranked[i]->score);
      }
      checked = end;
    }
    ranked.resize(checked);  // the rest rank below k checked ones
    std::sort(ranked.begin(), ranked.end(), by_score);
  }
  for (Candidate* c : ranked) {
    if (static_cast<int>(response.results.size()) >= request.k) break;
    SearchHit hit;
    hit.node = c->node;
    hit.score = c->score;
    if (c->lexical_rank >= 0) {
      std::string fields = MatchedFields(c->node, words);
      hit.why.push_back("lexical #" + std::to_string(c->lexical_rank + 1) + " (bm25 " +
                        Fixed(c->bm25, 2) + (fields.empty() ? "" : "; " + fields) + ")");
    }
    if (c->vector_rank >= 0)
      hit.why.push_back("vector #" + std::to_string(c->vector_rank + 1) + " (similarity " +
                        Fixed(c->similarity, 3) + ")");
    if (request.mode == SearchMode::kHybrid && c->ppr > 0 && !c->graph_why.empty()) {
      std::string g = "graph +" + Fixed(kPprWeight * c->ppr, 4) + " (";
      for (size_t i = 0; i < c->graph_why.size(); ++i) g += (i ? "; " : "") + c->graph_why[i];
      hit.why.push_back(g + ")");
    }
    if (!c->test_why.empty())
      hit.why.push_back("test code, score x" + Fixed(kTestCodeWeight, 1) + " (" + c->test_why +
                        ")");
    response.results.push_back(std::move(hit));
  }
  response.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return response;
}

}  // namespace ferrograph
