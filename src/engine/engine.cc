#include "ferrograph/engine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "ingest/extraction_cache.h"
#include "ingest/indexer.h"
#include "search/searcher.h"
#include "store/checkpointer.h"
#include "store/store.h"

namespace ferrograph {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keys in the documented order

std::string DefaultDatabasePath(const std::string& root) {
  std::error_code ec;
  fs::path p = fs::absolute(root, ec).lexically_normal();
  if (fs::is_regular_file(p, ec)) p = p.parent_path();
  return (p / ".ferrograph" / "graph.db").string();
}

Engine::Engine(std::unique_ptr<Store> store, Options options)
    : store_(std::move(store)), options_(std::move(options)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const Options& options) {
  if (options.db_path.empty()) return Status::InvalidArgument("no database path given");
  Store::Options so;
  so.read_only = options.read_only;
  so.create_if_missing = !options.read_only;
  FG_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.db_path, so));
  return std::unique_ptr<Engine>(new Engine(std::move(store), options));
}

Result<IndexReport> Engine::Index(const std::string& root, const IndexOptions& options) {
  IndexOptions run_options = options;
  if (options.keep_parses && !options.extraction_cache) {
    if (!extraction_cache_) extraction_cache_ = std::make_shared<ExtractionCache>();
    run_options.extraction_cache = extraction_cache_;
  }
  if (options.keep_parses && !checkpointer_) {
    // Without its own connection SQLite's automatic checkpoints stay on.
    Result<std::unique_ptr<WalCheckpointer>> c = WalCheckpointer::Open(store_->path());
    if (c.ok() && store_->SetAutoCheckpoint(false).ok()) checkpointer_ = std::move(c).value();
  }
  // After the run's writes, whatever became of them.
  struct CheckpointAfter {
    WalCheckpointer* c;
    ~CheckpointAfter() {
      if (c) c->Request();
    }
  } checkpoint_after{checkpointer_.get()};
  FG_ASSIGN_OR_RETURN(IndexReport report, RunIndex(*store_, root, run_options));
  if (!options.search_index) return report;
  Status s = UpdateSearch(options, &report);
  if (!s.ok()) {
    // The graph is committed; say so, so that nobody indexes in vain again.
    std::string committed = report.version
                                ? "version " + report.version->uuid.str() + " is committed"
                                : "the graph was unchanged";
    return s.WithContext("updating the search indexes (" + committed +
                         "; run `ferrograph index` again to finish them)");
  }
  return report;
}

Result<GraphStats> Engine::Stats() { return store_->Stats(); }

Result<std::vector<Node>> Engine::Find(const std::string& query, int limit) {
  if (auto id = NodeId::FromHex(query)) {
    FG_ASSIGN_OR_RETURN(std::optional<Node> n, store_->GetNode(*id));
    if (n) return std::vector<Node>{*n};
  }
  FG_ASSIGN_OR_RETURN(std::vector<Node> found, store_->FindNodes(query, limit));
  if (!found.empty() || query.find("::") == std::string::npos) return found;
  return FindThroughReExports(query, limit);
}

namespace {

// The name a `use` edge binds: its alias, else the imported item's name.
std::string ImportedName(const Edge& e, const Node& target) {
  if (!e.props.empty()) {
    json props = json::parse(e.props, nullptr, /*allow_exceptions=*/false);
    if (props.is_object() && props.contains("alias") && props["alias"].is_string())
      return props["alias"].get<std::string>();
  }
  return target.name;
}

}  // namespace

Result<std::vector<Node>> Engine::FindThroughReExports(const std::string& query, int limit) {
  // Walks the path a segment at a time from the crates named by its first
  // segment: a segment is a child of the current module (or type), or a
  // name a `use` in it imports (following IMPORTS edges).
  std::vector<std::string> segs = SplitPath(query);
  if (segs.size() < 2) return std::vector<Node>();
  FG_ASSIGN_OR_RETURN(std::vector<Node> roots, store_->FindNodes(segs[0], 50));
  std::vector<Node> current;
  for (Node& n : roots)
    if (n.kind == NodeKind::kCrate && n.name == segs[0]) current.push_back(std::move(n));
  constexpr size_t kMaxFrontier = 64;
  for (size_t i = 1; i < segs.size() && !current.empty(); ++i) {
    std::vector<Node> next;
    std::set<NodeId> seen;
    auto take = [&](Node n) {
      if (seen.insert(n.id).second && next.size() < kMaxFrontier) next.push_back(std::move(n));
    };
    for (const Node& at : current) {
      FG_ASSIGN_OR_RETURN(std::vector<Edge> down, store_->EdgesFrom(at.id, EdgeKind::kContains));
      // A type's associated items live in its impls: `regex::Regex::new`.
      FG_ASSIGN_OR_RETURN(std::vector<Edge> impls, store_->EdgesTo(at.id, EdgeKind::kImplFor));
      for (const Edge& impl : impls) {
        FG_ASSIGN_OR_RETURN(std::vector<Edge> items,
                            store_->EdgesFrom(impl.src, EdgeKind::kContains));
        for (Edge& item : items)
          if (item.dst != at.id) down.push_back(std::move(item));
      }
      for (const Edge& e : down) {
        FG_ASSIGN_OR_RETURN(std::optional<Node> child, store_->GetNode(e.dst));
        if (!child) continue;
        if (child->kind == NodeKind::kUse) {
          FG_ASSIGN_OR_RETURN(std::vector<Edge> imports,
                              store_->EdgesFrom(child->id, EdgeKind::kImports));
          for (const Edge& imp : imports) {
            FG_ASSIGN_OR_RETURN(std::optional<Node> target, store_->GetNode(imp.dst));
            if (!target) continue;
            if (imp.props.find("\"glob\":true") != std::string::npos) {
              // `pub use m::*`: the public items of m, under their names.
              FG_ASSIGN_OR_RETURN(std::vector<Edge> inner,
                                  store_->EdgesFrom(target->id, EdgeKind::kContains));
              for (const Edge& ie : inner) {
                FG_ASSIGN_OR_RETURN(std::optional<Node> item, store_->GetNode(ie.dst));
                if (item && item->name == segs[i] && item->visibility == Visibility::kPublic &&
                    item->kind != NodeKind::kUse)
                  take(std::move(*item));
              }
            } else if (ImportedName(imp, *target) == segs[i]) {
              take(std::move(*target));
            }
          }
        } else if (child->name == segs[i] && child->kind != NodeKind::kImpl) {
          take(std::move(*child));
        }
      }
    }
    current = std::move(next);
  }
  if (static_cast<int>(current.size()) > limit) current.resize(static_cast<size_t>(limit));
  return current;
}

Result<NodeDetails> Engine::Describe(const NodeId& id) {
  FG_ASSIGN_OR_RETURN(std::optional<Node> node, store_->GetNode(id));
  if (!node) return Status::NotFound("no current node with id " + id.str());
  NodeDetails d;
  d.node = std::move(*node);
  FG_ASSIGN_OR_RETURN(d.source, store_->NodeSource(id));
  FG_ASSIGN_OR_RETURN(std::vector<Edge> up, store_->EdgesTo(id, EdgeKind::kContains));
  for (const Edge& e : up) {
    FG_ASSIGN_OR_RETURN(std::optional<Node> c, store_->GetNode(e.src));
    if (c) {
      d.container = std::move(c);
      break;
    }
  }
  FG_ASSIGN_OR_RETURN(std::vector<Edge> down, store_->EdgesFrom(id, EdgeKind::kContains));
  for (const Edge& e : down) {
    FG_ASSIGN_OR_RETURN(std::optional<Node> c, store_->GetNode(e.dst));
    if (c) d.children.push_back(std::move(*c));
  }
  std::stable_sort(d.children.begin(), d.children.end(), [](const Node& a, const Node& b) {
    return std::tie(a.file, a.span.start_byte) < std::tie(b.file, b.span.start_byte);
  });
  for (bool out : {true, false}) {
    FG_ASSIGN_OR_RETURN(std::vector<Edge> edges, out ? store_->EdgesFrom(id, std::nullopt)
                                                     : store_->EdgesTo(id, std::nullopt));
    std::vector<NodeDetails::Link>& links = out ? d.out_edges : d.in_edges;
    for (Edge& e : edges) {
      if (e.kind == EdgeKind::kContains) continue;
      FG_ASSIGN_OR_RETURN(std::optional<Node> other, store_->GetNode(out ? e.dst : e.src));
      if (other) links.push_back({std::move(e), std::move(*other)});
    }
    std::stable_sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
      return std::tie(a.edge.kind, a.other.path) < std::tie(b.edge.kind, b.other.path);
    });
  }
  // Public re-exports: a `pub use` importing this node makes it reachable
  // from the use's module under the imported name.
  for (const NodeDetails::Link& l : d.in_edges) {
    if (l.edge.kind != EdgeKind::kImports || l.other.visibility != Visibility::kPublic) continue;
    FG_ASSIGN_OR_RETURN(std::optional<Node> module, store_->GetNode(l.other.parent));
    if (!module || (module->kind != NodeKind::kCrate && module->visibility != Visibility::kPublic))
      continue;
    d.public_paths.push_back(module->path + "::" + ImportedName(l.edge, d.node));
  }
  std::sort(d.public_paths.begin(), d.public_paths.end());
  d.public_paths.erase(std::unique(d.public_paths.begin(), d.public_paths.end()),
                       d.public_paths.end());
  return d;
}

Status Engine::Export(std::ostream& out) {
  std::unordered_map<NodeId, std::string, FixedBytesHash> paths;
  FG_RETURN_IF_ERROR(store_->ForEachNode([&](const Node& n) {
    paths.emplace(n.id, n.path);
    json j = {{"type", "node"},
              {"id", n.id.str()},
              {"kind", KindName(n.kind)},
              {"path", n.path},
              {"name", n.name},
              {"crate", n.crate_name},
              {"file", n.file},
              {"line", n.span.start_line},
              {"end_line", n.span.end_line},
              {"visibility", VisibilityName(n.visibility)},
              {"content_hash", n.content_hash.str()}};
    if (!n.cfgs.empty()) j["cfg"] = n.cfgs;
    if (!n.derives.empty()) j["derive"] = n.derives;
    if (!n.in_macro.empty()) j["in_macro"] = n.in_macro;
    out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    return out.good() ? Status::OK() : Status::IOError("writing the export failed");
  }));
  FG_RETURN_IF_ERROR(store_->ForEachEdge([&](const Edge& e) {
    auto src = paths.find(e.src);
    auto dst = paths.find(e.dst);
    json j = {{"type", "edge"},
              {"kind", KindName(e.kind)},
              {"src", src == paths.end() ? json(nullptr) : json(src->second)},
              {"dst", dst == paths.end() ? json(nullptr) : json(dst->second)},
              {"src_id", e.src.str()},
              {"dst_id", e.dst.str()},
              {"file", e.file}};
    if (e.line) j["line"] = e.line;
    if (!e.props.empty()) {
      json props = json::parse(e.props, nullptr, false);
      if (props.is_object())
        for (auto& [k, v] : props.items()) j[k] = v;
    }
    out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    return out.good() ? Status::OK() : Status::IOError("writing the export failed");
  }));
  out.flush();
  return Status::OK();
}

}  // namespace ferrograph
