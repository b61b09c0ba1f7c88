// The Engine's graph queries (engine.h, query.h): call trees, type uses,
// shortest paths and neighbourhoods, all over the store's current edges
// (Store::EdgesFrom / EdgesTo, CONTAINS included through Node::parent).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "ferrograph/engine.h"
#include "store/store.h"

namespace ferrograph {

namespace {

using NodeSet = std::unordered_set<NodeId, FixedBytesHash>;
template <typename V>
using NodeMap = std::unordered_map<NodeId, V, FixedBytesHash>;

// The JSON object of an edge's props; an empty object when there is none or
// it does not parse.
nlohmann::json Props(const Edge& e) {
  if (e.props.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(e.props, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::string StringProp(const nlohmann::json& props, const char* key) {
  auto it = props.find(key);
  return it != props.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool SiteLess(const CallSite& a, const CallSite& b) {
  return std::tie(a.file, a.line, a.resolved, a.candidates) <
         std::tie(b.file, b.line, b.resolved, b.candidates);
}
bool SiteEqual(const CallSite& a, const CallSite& b) {
  return std::tie(a.file, a.line, a.resolved, a.candidates) ==
         std::tie(b.file, b.line, b.resolved, b.candidates);
}

bool KindAllowed(const std::vector<EdgeKind>& kinds, EdgeKind k) {
  return kinds.empty() || std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

// Current nodes by id, each read once.
class NodeCache {
 public:
  explicit NodeCache(Store& store) : store_(store) {}
  // The current node `id`, or nullptr when there is none.
  Result<const Node*> Get(const NodeId& id) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) {
      FG_ASSIGN_OR_RETURN(std::optional<Node> n, store_.GetNode(id));
      it = nodes_.emplace(id, std::move(n)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  Store& store_;
  NodeMap<std::optional<Node>> nodes_;
};

Status CheckRoots(const std::vector<NodeId>& roots, const char* what, NodeCache& cache,
                  std::vector<Node>* out) {
  if (roots.empty()) return Status::InvalidArgument(std::string("no ") + what + " node given");
  NodeSet seen;
  for (const NodeId& id : roots) {
    if (!seen.insert(id).second) continue;
    FG_ASSIGN_OR_RETURN(const Node* n, cache.Get(id));
    if (!n) return Status::NotFound("no current node with id " + id.str());
    if (out) out->push_back(*n);
  }
  return Status::OK();
}

}  // namespace

CallSite CallSiteOf(const Edge& e) {
  nlohmann::json props = Props(e);
  CallSite s;
  s.file = e.file;
  s.line = e.line;
  s.resolved = StringProp(props, "resolved");
  auto it = props.find("candidates");
  if (it != props.end() && it->is_number_integer()) s.candidates = it->get<int>();
  return s;
}

// ---------------------------------------------------------------- calls

Result<CallTree> Engine::Calls(const std::vector<NodeId>& roots, CallDirection direction,
                               const CallTreeOptions& options) {
  if (options.depth < 1) return Status::InvalidArgument("call depth must be at least 1");
  if (options.max_nodes < 1) return Status::InvalidArgument("max_nodes must be at least 1");
  NodeCache cache(*store_);
  CallTree tree;
  tree.direction = direction;
  tree.depth = options.depth;
  FG_RETURN_IF_ERROR(CheckRoots(roots, "root", cache, &tree.roots));

  // Breadth-first, so that each node is expanded where it is nearest to the
  // roots. The roots together are one tree node, keyed by the zero id.
  const NodeId kRoot;
  struct Child {
    NodeId id;
    const Node* node;
    std::vector<CallSite> sites;
  };
  NodeMap<std::vector<Child>> children;
  NodeMap<NodeId> tree_parent;  // where each non-root node is expanded
  NodeSet root_ids;
  for (const Node& r : tree.roots) root_ids.insert(r.id);
  std::vector<NodeId> frontier = {kRoot};
  for (int depth = 0; depth < options.depth && !frontier.empty(); ++depth) {
    std::vector<NodeId> next;
    for (const NodeId& u : frontier) {
      std::vector<NodeId> ends;
      if (u == kRoot)
        for (const Node& r : tree.roots) ends.push_back(r.id);
      else
        ends.push_back(u);
      std::vector<Child> kids;
      NodeMap<size_t> index;
      for (const NodeId& end : ends) {
        FG_ASSIGN_OR_RETURN(std::vector<Edge> edges,
                            direction == CallDirection::kCallers
                                ? store_->EdgesTo(end, EdgeKind::kCalls)
                                : store_->EdgesFrom(end, EdgeKind::kCalls));
        for (const Edge& e : edges) {
          const NodeId& other = direction == CallDirection::kCallers ? e.src : e.dst;
          auto [it, fresh] = index.emplace(other, kids.size());
          if (fresh) {
            FG_ASSIGN_OR_RETURN(const Node* n, cache.Get(other));
            if (!n) {  // a dangling edge: nothing to show
              index.erase(it);
              continue;
            }
            kids.push_back({other, n, {}});
          }
          kids[it->second].sites.push_back(CallSiteOf(e));
        }
      }
      std::vector<Child> kept;
      for (Child& c : kids) {
        std::sort(c.sites.begin(), c.sites.end(), SiteLess);
        c.sites.erase(std::unique(c.sites.begin(), c.sites.end(), SiteEqual), c.sites.end());
        if (!root_ids.count(c.id) && !tree_parent.count(c.id)) {
          if (tree.distinct_nodes >= options.max_nodes) {
            tree.truncated = true;
            continue;
          }
          ++tree.distinct_nodes;
          tree_parent.emplace(c.id, u);
          next.push_back(c.id);
        }
        kept.push_back(std::move(c));
      }
      std::sort(kept.begin(), kept.end(), [](const Child& a, const Child& b) {
        auto key = [](const Child& c) {
          return std::make_tuple(c.sites.empty() ? std::string() : c.sites[0].file,
                                 c.sites.empty() ? 0u : c.sites[0].line, c.node->path);
        };
        return key(a) < key(b);
      });
      children.emplace(u, std::move(kept));
    }
    frontier = std::move(next);
  }

  // Depth-first over the breadth-first tree; every other edge is a leaf.
  struct Frame {
    NodeId id;
    int entry;  // the entry of `id`, -1 for the roots
    size_t next_child = 0;
  };
  std::vector<Frame> stack = {{kRoot, -1}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    auto it = children.find(f.id);
    if (it == children.end() || f.next_child >= it->second.size()) {
      stack.pop_back();
      continue;
    }
    const Child& c = it->second[f.next_child++];
    CallTreeEntry e;
    e.depth = static_cast<int>(stack.size());
    e.parent = f.entry;
    e.node = *c.node;
    e.sites = c.sites;
    auto parent = tree_parent.find(c.id);
    bool expand = parent != tree_parent.end() && parent->second == f.id;
    if (!expand) {
      e.repeated = true;
      e.cycle = root_ids.count(c.id) > 0;
      for (int a = f.entry; a >= 0 && !e.cycle; a = tree.entries[a].parent)
        e.cycle = tree.entries[a].node.id == c.id;
    }
    NodeId id = c.id;
    tree.entries.push_back(std::move(e));
    if (expand) stack.push_back({id, static_cast<int>(tree.entries.size()) - 1});
  }
  return tree;
}

// ---------------------------------------------------------------- uses

Result<std::vector<TypeUse>> Engine::TypeUses(const std::vector<NodeId>& types) {
  NodeCache cache(*store_);
  std::vector<Node> targets;
  FG_RETURN_IF_ERROR(CheckRoots(types, "type", cache, &targets));
  std::vector<TypeUse> uses;
  NodeMap<size_t> index;
  for (const Node& t : targets) {
    FG_ASSIGN_OR_RETURN(std::vector<Edge> edges, store_->EdgesTo(t.id, EdgeKind::kUsesType));
    for (const Edge& e : edges) {
      auto [it, fresh] = index.emplace(e.src, uses.size());
      if (fresh) {
        FG_ASSIGN_OR_RETURN(const Node* n, cache.Get(e.src));
        if (!n) {
          index.erase(it);
          continue;
        }
        uses.push_back({*n, {}});
      }
      uses[it->second].sites.push_back({e.file, e.line, StringProp(Props(e), "role")});
    }
  }
  for (TypeUse& u : uses) {
    auto key = [](const TypeUseSite& s) { return std::tie(s.file, s.line, s.role); };
    std::sort(u.sites.begin(), u.sites.end(),
              [&](const TypeUseSite& a, const TypeUseSite& b) { return key(a) < key(b); });
    u.sites.erase(
        std::unique(u.sites.begin(), u.sites.end(),
                    [&](const TypeUseSite& a, const TypeUseSite& b) { return key(a) == key(b); }),
        u.sites.end());
  }
  std::sort(uses.begin(), uses.end(), [](const TypeUse& a, const TypeUse& b) {
    return std::tie(a.user.path, a.user.file, a.user.span.start_line) <
           std::tie(b.user.path, b.user.file, b.user.span.start_line);
  });
  return uses;
}

// ---------------------------------------------------------------- paths

Result<PathResult> Engine::ShortestPath(const std::vector<NodeId>& from,
                                        const std::vector<NodeId>& to, const PathOptions& options) {
  NodeCache cache(*store_);
  FG_RETURN_IF_ERROR(CheckRoots(from, "start", cache, nullptr));
  FG_RETURN_IF_ERROR(CheckRoots(to, "target", cache, nullptr));
  PathResult result;
  result.directed = options.directed;

  // Breadth-first from both ends, one whole level of the smaller frontier at
  // a time; side 0 walks forwards from `from`, side 1 backwards from `to`.
  struct Visit {
    NodeId prev;  // towards this side's start; itself for a start
    Edge edge;    // the edge between prev and this node
    int dist = 0;
  };
  NodeMap<Visit> visited[2];
  std::vector<NodeId> frontier[2];
  for (int side = 0; side < 2; ++side)
    for (const NodeId& id : side == 0 ? from : to)
      if (visited[side].emplace(id, Visit{id, Edge(), 0}).second) frontier[side].push_back(id);
  std::optional<NodeId> meet;
  for (const NodeId& id : frontier[0])
    if (visited[1].count(id)) {
      meet = id;
      break;
    }
  std::optional<EdgeKind> only_kind;
  if (options.kinds.size() == 1) only_kind = options.kinds[0];

  while (!meet && !frontier[0].empty() && !frontier[1].empty()) {
    if (visited[0].size() + visited[1].size() > options.max_visited) {
      result.bound_hit = true;
      break;
    }
    int side = frontier[0].size() <= frontier[1].size() ? 0 : 1;
    int best = -1;
    std::vector<NodeId> next;
    for (const NodeId& u : frontier[side]) {
      int du = visited[side].at(u).dist;
      // Side 0 follows edges from u; side 1 edges into u. Undirected: both.
      for (bool out : {true, false}) {
        bool wanted = options.directed ? out == (side == 0) : true;
        if (!wanted) continue;
        FG_ASSIGN_OR_RETURN(std::vector<Edge> edges,
                            out ? store_->EdgesFrom(u, only_kind) : store_->EdgesTo(u, only_kind));
        for (Edge& e : edges) {
          if (!KindAllowed(options.kinds, e.kind)) continue;
          const NodeId v = out ? e.dst : e.src;
          if (visited[side].count(v)) continue;
          visited[side].emplace(v, Visit{u, std::move(e), du + 1});
          next.push_back(v);
          auto other = visited[1 - side].find(v);
          if (other != visited[1 - side].end()) {
            int total = du + 1 + other->second.dist;
            if (best < 0 || total < best) {
              best = total;
              meet = v;
            }
          }
        }
      }
    }
    frontier[side] = std::move(next);
  }
  result.visited = visited[0].size() + visited[1].size();
  if (!meet) return result;

  // Start ... meet along side 0, then meet ... target along side 1.
  std::vector<NodeId> back;
  for (NodeId id = *meet;;) {
    back.push_back(id);
    const Visit& v = visited[0].at(id);
    if (v.prev == id) break;
    id = v.prev;
  }
  std::reverse(back.begin(), back.end());
  auto node_or_placeholder = [&](const NodeId& id) -> Result<Node> {
    FG_ASSIGN_OR_RETURN(const Node* n, cache.Get(id));
    if (n) return *n;
    Node missing;  // an edge end with no current node
    missing.id = id;
    missing.kind = NodeKind::kExternal;
    missing.path = "<missing " + id.str() + ">";
    return missing;
  };
  FG_ASSIGN_OR_RETURN(result.start, node_or_placeholder(back[0]));
  for (size_t i = 1; i < back.size(); ++i) {
    const Visit& v = visited[0].at(back[i]);
    PathStep step;
    step.edge = v.edge;
    step.forward = v.edge.src == back[i - 1] && v.edge.dst == back[i];
    FG_ASSIGN_OR_RETURN(step.node, node_or_placeholder(back[i]));
    result.steps.push_back(std::move(step));
  }
  for (NodeId id = *meet;;) {
    const Visit& v = visited[1].at(id);
    if (v.prev == id) break;
    PathStep step;
    step.edge = v.edge;
    step.forward = v.edge.src == id && v.edge.dst == v.prev;
    FG_ASSIGN_OR_RETURN(step.node, node_or_placeholder(v.prev));
    result.steps.push_back(std::move(step));
    id = v.prev;
  }
  result.found = true;
  return result;
}

// ---------------------------------------------------------------- neighbourhoods

Result<Subgraph> Engine::Neighbourhood(const std::vector<NodeId>& roots,
                                       const SubgraphOptions& options) {
  if (options.depth < 0) return Status::InvalidArgument("depth must not be negative");
  if (options.max_nodes < 1) return Status::InvalidArgument("max_nodes must be at least 1");
  NodeCache cache(*store_);
  std::vector<Node> root_nodes;
  FG_RETURN_IF_ERROR(CheckRoots(roots, "root", cache, &root_nodes));
  Subgraph g;
  g.depth = options.depth;
  std::optional<EdgeKind> only_kind;
  if (options.kinds.size() == 1) only_kind = options.kinds[0];

  NodeMap<size_t> included;  // index into g.nodes
  for (const Node& r : root_nodes) {
    if (included.size() >= options.max_nodes) {
      g.truncated = true;
      break;
    }
    included.emplace(r.id, g.nodes.size());
    g.nodes.push_back({r, 0});
  }
  // Every included node's out-edges are read once (so each edge is counted
  // once); nodes short of the depth also read their in-edges to reach more.
  std::vector<Edge> out_edges;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const NodeId u = g.nodes[i].node.id;
    int du = g.nodes[i].depth;
    for (bool out : {true, false}) {
      if (!out && du >= options.depth) continue;
      FG_ASSIGN_OR_RETURN(std::vector<Edge> edges,
                          out ? store_->EdgesFrom(u, only_kind) : store_->EdgesTo(u, only_kind));
      for (Edge& e : edges) {
        if (!KindAllowed(options.kinds, e.kind)) continue;
        const NodeId v = out ? e.dst : e.src;
        if (du < options.depth && !included.count(v)) {
          FG_ASSIGN_OR_RETURN(const Node* n, cache.Get(v));
          if (n) {
            if (included.size() >= options.max_nodes) {
              g.truncated = true;
            } else {
              included.emplace(v, g.nodes.size());
              g.nodes.push_back({*n, du + 1});
            }
          }
        }
        if (out) out_edges.push_back(std::move(e));
      }
    }
  }
  std::map<std::tuple<NodeId, EdgeKind, NodeId>, int> counts;
  for (const Edge& e : out_edges)
    if (included.count(e.src) && included.count(e.dst)) ++counts[{e.src, e.kind, e.dst}];
  for (const auto& [key, count] : counts)
    g.edges.push_back({std::get<1>(key), std::get<0>(key), std::get<2>(key), count});

  std::stable_sort(g.nodes.begin(), g.nodes.end(),
                   [](const SubgraphNode& a, const SubgraphNode& b) {
                     return std::tie(a.depth, a.node.path, a.node.kind) <
                            std::tie(b.depth, b.node.path, b.node.kind);
                   });
  NodeMap<size_t> order;
  for (size_t i = 0; i < g.nodes.size(); ++i) order.emplace(g.nodes[i].node.id, i);
  std::sort(g.edges.begin(), g.edges.end(), [&](const SubgraphEdge& a, const SubgraphEdge& b) {
    return std::make_tuple(order.at(a.src), a.kind, order.at(a.dst)) <
           std::make_tuple(order.at(b.src), b.kind, order.at(b.dst));
  });
  return g;
}

Result<std::vector<Implementation>> Engine::Implementations(const std::vector<NodeId>& targets) {
  std::vector<Implementation> rows;
  std::set<std::string> seen;
  auto add_impl = [&](const Node& impl) -> Status {
    if (!seen.insert(impl.id.str()).second) return Status::OK();
    FG_ASSIGN_OR_RETURN(NodeDetails d, Describe(impl.id));
    Implementation r;
    r.impl = impl;
    r.file = impl.file;
    r.line = impl.span.start_line;
    for (const NodeDetails::Link& l : d.out_edges) {
      if (l.edge.kind == EdgeKind::kImplFor) r.self_type = l.other.path;
      if (l.edge.kind == EdgeKind::kImplements) r.trait = l.other.path;
    }
    rows.push_back(std::move(r));
    return Status::OK();
  };
  for (const NodeId& id : targets) {
    FG_ASSIGN_OR_RETURN(NodeDetails d, Describe(id));
    const Node& t = d.node;
    for (const NodeDetails::Link& l : d.in_edges) {
      if (l.edge.kind != EdgeKind::kImplements && l.edge.kind != EdgeKind::kImplFor) continue;
      if (l.other.kind == NodeKind::kImpl) {
        FG_RETURN_IF_ERROR(add_impl(l.other));
      } else if (l.edge.kind == EdgeKind::kImplements) {  // a derive
        if (!seen.insert(l.other.id.str() + "|" + t.path).second) continue;
        rows.push_back({std::nullopt, l.other.path, t.path, l.other.file, l.other.span.start_line});
      }
    }
    for (const NodeDetails::Link& l : d.out_edges) {  // the type's derives
      if (l.edge.kind != EdgeKind::kImplements) continue;
      if (!seen.insert(t.id.str() + "|" + l.other.path).second) continue;
      rows.push_back({std::nullopt, t.path, l.other.path, t.file, t.span.start_line});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Implementation& a, const Implementation& b) {
    return std::tie(a.file, a.line, a.self_type, a.trait) <
           std::tie(b.file, b.line, b.self_type, b.trait);
  });
  return rows;
}

}  // namespace ferrograph
