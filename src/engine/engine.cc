#include "ferrograph/engine.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <unordered_map>

#include "ingest/indexer.h"
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

Engine::Engine(std::unique_ptr<Store> store) : store_(std::move(store)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const Options& options) {
  if (options.db_path.empty()) return Status::InvalidArgument("no database path given");
  Store::Options so;
  so.read_only = options.read_only;
  so.create_if_missing = !options.read_only;
  FG_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.db_path, so));
  return std::unique_ptr<Engine>(new Engine(std::move(store)));
}

Result<IndexReport> Engine::Index(const std::string& root, const IndexOptions& options) {
  return RunIndex(*store_, root, options);
}

Result<GraphStats> Engine::Stats() { return store_->Stats(); }

Result<std::vector<Node>> Engine::Find(const std::string& query, int limit) {
  if (auto id = NodeId::FromHex(query)) {
    FG_ASSIGN_OR_RETURN(std::optional<Node> n, store_->GetNode(*id));
    if (n) return std::vector<Node>{*n};
  }
  return store_->FindNodes(query, limit);
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
