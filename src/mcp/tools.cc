// The MCP tools over the Engine (tools.h).
#include "mcp/tools.h"

#include <time.h>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "ferrograph/context.h"
#include "mcp/json_schema.h"

namespace ferrograph::mcp {

namespace {

using json = nlohmann::json;

// Bounds on what one answer holds, so a tool result stays a size a model
// can read: a crate's module has thousands of children, a file-sized node
// megabytes of source.
constexpr size_t kMaxSourceBytes = 64 << 10;
constexpr size_t kMaxChildren = 300;
constexpr size_t kEdgesPerGroup = 20;
constexpr size_t kMaxCandidates = 50;
constexpr size_t kMaxCallTreeNodes = 500;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ToolOutput Success(json structured) {
  ToolOutput out;
  out.text = Dump(structured);
  out.structured = std::move(structured);
  return out;
}

ToolOutput Failure(std::string message, json structured = nullptr) {
  ToolOutput out;
  out.text = "error: " + message;
  out.structured = std::move(structured);
  out.is_error = true;
  return out;
}

ToolOutput Failure(const Status& s) { return Failure(s.message()); }

// An integer argument the schema has checked (5.0 counts as 5).
int64_t IntArg(const json& args, const char* name, int64_t fallback) {
  auto it = args.find(name);
  if (it == args.end()) return fallback;
  if (it->is_number_float()) return static_cast<int64_t>(std::llround(it->get<double>()));
  return it->get<int64_t>();
}

std::string StringArg(const json& args, const char* name) {
  auto it = args.find(name);
  return it != args.end() && it->is_string() ? it->get<std::string>() : "";
}

// `text` cut to at most `max` bytes at a UTF-8 character boundary.
std::string Truncate(const std::string& text, size_t max, bool* truncated) {
  *truncated = text.size() > max;
  if (!*truncated) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

json BriefNode(const Node& n) {
  return {{"kind", KindName(n.kind)},
          {"path", n.path},
          {"file", n.file},
          {"line", n.span.start_line},
          {"id", n.id.str()}};
}

json NodeKindNames() {
  json names = json::array();
  for (int i = 0; i < kNodeKindCount; ++i) names.push_back(KindName(static_cast<NodeKind>(i)));
  return names;
}

using Candidates = std::map<std::pair<std::string, std::string>, std::vector<Node>>;

// Nodes grouped as candidates: by path and id, every crate's external node
// of one path in one group.
Candidates Group(std::vector<Node> nodes) {
  Candidates candidates;
  for (Node& n : nodes) {
    std::string key = n.kind == NodeKind::kExternal ? "" : n.id.str();
    candidates[{n.path, key}].push_back(std::move(n));
  }
  return candidates;
}

// The failure for a query that names several candidates: the list (the
// first kMaxCandidates), for the caller to pick one from.
ToolOutput Ambiguous(const std::string& query, const Candidates& candidates) {
  json list = json::array();
  std::string text = fmt::format(
      "`{}` is ambiguous: {} candidates. Call again with one of these paths (or its id):", query,
      candidates.size());
  for (const auto& [key, nodes] : candidates) {
    if (list.size() == kMaxCandidates) break;
    const Node& n = nodes[0];
    list.push_back(BriefNode(n));
    text += fmt::format("\n- {} {}{}  id {}", KindName(n.kind), n.path,
                        n.file.empty() || n.file[0] == '#'
                            ? std::string()
                            : fmt::format("  ({}:{})", n.file, n.span.start_line),
                        n.id.str());
  }
  if (candidates.size() > kMaxCandidates)
    text += fmt::format("\n... and {} more", candidates.size() - kMaxCandidates);
  ToolOutput out;
  out.text = std::move(text);
  out.structured = {
      {"error", "ambiguous"}, {"query", query}, {"count", candidates.size()}, {"candidates", list}};
  out.is_error = true;
  return out;
}

// The nodes `query` names, as the CLI resolves a NAME: narrowed to the
// kinds `preferred` accepts when any match is one; every crate's external
// node of one path is one candidate. Sets `*failure` (nothing matched,
// ambiguous, database error) and returns nullopt otherwise.
std::optional<std::vector<Node>> Resolve(Engine& engine, const std::string& query,
                                         const std::function<bool(NodeKind)>& preferred,
                                         const std::string& what, ToolOutput* failure) {
  auto found = engine.Find(query, 500);
  if (!found.ok()) {
    *failure = Failure(found.status());
    return std::nullopt;
  }
  bool any_preferred = false;
  for (const Node& n : *found) any_preferred |= preferred && preferred(n.kind);
  std::vector<Node> kept;
  for (Node& n : *found)
    if (!any_preferred || preferred(n.kind)) kept.push_back(std::move(n));
  Candidates candidates = Group(std::move(kept));
  if (candidates.empty()) {
    *failure = Failure(fmt::format("no {} matches `{}`", what, query),
                       {{"error", "not_found"}, {"query", query}});
    return std::nullopt;
  }
  if (candidates.size() > 1) {
    *failure = Ambiguous(query, candidates);
    return std::nullopt;
  }
  return std::move(candidates.begin()->second);
}

std::vector<NodeId> Ids(const std::vector<Node>& nodes) {
  std::vector<NodeId> ids;
  for (const Node& n : nodes) ids.push_back(n.id);
  return ids;
}

// ---- search_code ----

ToolOutput SearchCode(const ToolContext& ctx, const json& args) {
  SearchRequest req;
  req.query = StringArg(args, "query");
  req.k = static_cast<int>(IntArg(args, "k", 10));
  if (args.contains("kind")) req.kinds = {*ParseNodeKind(StringArg(args, "kind"))};
  if (args.contains("tests")) req.tests = *ParseTestCode(StringArg(args, "tests"));
  auto res = ctx.engine->Search(req);
  if (!res.ok()) return Failure(res.status());
  json results = json::array();
  for (const SearchHit& h : res->results) {
    std::string why;
    for (const std::string& part : h.why) why += (why.empty() ? "" : "; ") + part;
    results.push_back({{"path", h.node.path},
                       {"kind", KindName(h.node.kind)},
                       {"file", h.node.file},
                       {"line", h.node.span.start_line},
                       {"signature", h.node.signature},
                       {"score", h.score},
                       {"why", why}});
  }
  json out = {{"query", req.query},
              {"mode", SearchModeName(req.mode)},
              {"model", res->model_id},
              {"results", results}};
  if (!res->warning.empty()) out["warning"] = res->warning;
  return Success(std::move(out));
}

// ---- get_node ----

ToolOutput GetNode(const ToolContext& ctx, const json& args) {
  const std::string query = StringArg(args, "path");
  std::optional<NodeKind> kind;
  if (args.contains("kind")) kind = ParseNodeKind(StringArg(args, "kind"));
  ToolOutput failure;
  auto nodes = Resolve(
      *ctx.engine, query,
      kind ? std::function<bool(NodeKind)>([&](NodeKind k) { return k == *kind; }) : nullptr,
      kind ? std::string(KindName(*kind)) : "node", &failure);
  if (!nodes) return failure;
  if (kind && (*nodes)[0].kind != *kind)
    return Failure(fmt::format("no {} matches `{}`", KindName(*kind), query),
                   {{"error", "not_found"}, {"query", query}});
  auto d = ctx.engine->Describe((*nodes)[0].id);
  if (!d.ok()) return Failure(d.status());
  const Node& n = d->node;
  json j = {{"id", n.id.str()},
            {"kind", KindName(n.kind)},
            {"name", n.name},
            {"path", n.path},
            {"crate", n.crate_name},
            {"file", n.file},
            {"line", n.span.start_line},
            {"end_line", n.span.end_line},
            {"visibility", VisibilityName(n.visibility)},
            {"signature", n.signature},
            {"docs", n.docs}};
  if (!n.cfgs.empty()) j["cfg"] = n.cfgs;
  if (!n.derives.empty()) j["derive"] = n.derives;
  if (!n.attrs.empty()) j["attrs"] = n.attrs;
  if (!n.in_macro.empty()) j["in_macro"] = n.in_macro;
  j["container"] = d->container
                       ? json{{"kind", KindName(d->container->kind)}, {"path", d->container->path}}
                       : json(nullptr);
  json children = json::array();
  for (const Node& c : d->children) {
    if (children.size() == kMaxChildren) break;
    children.push_back(c.path);
  }
  j["children"] = children;
  j["children_count"] = d->children.size();
  // Edges by direction and kind: a count, and the first few far ends.
  json edges = json::object();
  for (const auto* links : {&d->out_edges, &d->in_edges}) {
    json groups = json::object();
    for (const NodeDetails::Link& l : *links) {
      json& g = groups[std::string(KindName(l.edge.kind))];
      if (g.is_null()) g = {{"count", 0}, {"nodes", json::array()}};
      g["count"] = g["count"].get<int64_t>() + 1;
      if (g["nodes"].size() < kEdgesPerGroup) {
        json item = {{"kind", KindName(l.other.kind)}, {"path", l.other.path}};
        if (l.edge.kind == EdgeKind::kCalls && l.edge.line) item["line"] = l.edge.line;
        g["nodes"].push_back(std::move(item));
      }
    }
    edges[links == &d->out_edges ? "out" : "in"] = std::move(groups);
  }
  j["edges"] = std::move(edges);
  if (!d->public_paths.empty()) j["public_paths"] = d->public_paths;
  if (d->source) {
    bool truncated = false;
    j["source"] = Truncate(*d->source, kMaxSourceBytes, &truncated);
    if (truncated) j["source_truncated"] = true;
  } else {
    j["source"] = nullptr;
  }
  return Success(std::move(j));
}

// ---- callers / callees ----

ToolOutput CallTreeTool(const ToolContext& ctx, const json& args, CallDirection direction) {
  const std::string query = StringArg(args, "path");
  CallTreeOptions options;
  options.depth = static_cast<int>(IntArg(args, "depth", 1));
  options.max_nodes = kMaxCallTreeNodes;
  ToolOutput failure;
  auto roots = Resolve(
      *ctx.engine, query,
      [](NodeKind k) {
        return k == NodeKind::kFunction || k == NodeKind::kMethod || k == NodeKind::kExternal;
      },
      "function", &failure);
  if (!roots) return failure;
  auto tree = ctx.engine->Calls(Ids(*roots), direction, options);
  if (!tree.ok()) return Failure(tree.status());
  const Node& root = tree->roots[0];
  std::set<std::string> distinct;
  json results = json::array();
  for (const CallTreeEntry& e : tree->entries) {
    distinct.insert(e.node.id.str());
    const Node& via = e.parent < 0 ? root : tree->entries[static_cast<size_t>(e.parent)].node;
    json sites = json::array();
    for (const CallSite& s : e.sites) {
      json site = {{"file", s.file},
                   {"line", s.line},
                   {"resolved", s.resolved.empty() ? json(nullptr) : json(s.resolved)}};
      if (s.candidates > 0) site["candidates"] = s.candidates;
      sites.push_back(std::move(site));
    }
    results.push_back({{"depth", e.depth},
                       {"kind", KindName(e.node.kind)},
                       {"path", e.node.path},
                       {"file", e.node.file},
                       {"line", e.node.span.start_line},
                       {"via", via.path},
                       {"call_sites", sites},
                       {"repeated", e.repeated},
                       {"cycle", e.cycle}});
  }
  return Success({{"query", query},
                  {"direction", direction == CallDirection::kCallers ? "callers" : "callees"},
                  {"depth", tree->depth},
                  {"root", BriefNode(root)},
                  {"results", results},
                  {"count", distinct.size()},
                  {"truncated", tree->truncated}});
}

// ---- implementations ----

bool IsImplsTarget(NodeKind k) {
  return k == NodeKind::kTrait || k == NodeKind::kStruct || k == NodeKind::kEnum ||
         k == NodeKind::kUnion || k == NodeKind::kTypeAlias || k == NodeKind::kExternal;
}

// As `ferrograph impls`: for a trait, the impls of it and the types that
// derive it; for a type, its impls (inherent and of traits) and derives.
ToolOutput Implementations(const ToolContext& ctx, const json& args) {
  const std::string query = StringArg(args, "path");
  Engine& engine = *ctx.engine;
  auto found = engine.Find(query, 500);
  if (!found.ok()) return Failure(found.status());
  std::vector<Node> matching;
  for (Node& n : *found)
    if (IsImplsTarget(n.kind)) matching.push_back(std::move(n));
  if (matching.empty())
    return Failure(fmt::format("no trait or type matches `{}`", query),
                   {{"error", "not_found"}, {"query", query}});
  Candidates candidates = Group(std::move(matching));
  if (candidates.size() > 1) return Ambiguous(query, candidates);
  const std::vector<Node>& targets = candidates.begin()->second;
  std::vector<NodeId> ids;
  for (const Node& n : targets) ids.push_back(n.id);
  auto found_rows = engine.Implementations(ids);
  if (!found_rows.ok()) return Failure(found_rows.status());
  const std::vector<Implementation>& rows = *found_rows;
  json list = json::array();
  for (const Implementation& r : rows)
    list.push_back({{"impl", r.impl ? json(r.impl->path) : json(nullptr)},
                    {"self", r.self_type.empty() ? json(nullptr) : json(r.self_type)},
                    {"trait", r.trait.empty() ? json(nullptr) : json(r.trait)},
                    {"derive", !r.impl},
                    {"file", r.file},
                    {"line", r.line}});
  const Node& target = targets[0];
  return Success({{"query", query},
                  {"node", {{"kind", KindName(target.kind)}, {"path", target.path}}},
                  {"implementations", list},
                  {"count", rows.size()}});
}

// ---- context_for ----

ToolOutput ContextFor(const ToolContext& ctx, const json& args) {
  ContextRequest req;
  req.question = StringArg(args, "question");
  req.budget = IntArg(args, "budget", ctx.context_budget);
  req.model = ctx.context_model;
  if (args.contains("tests")) req.tests = *ParseTestCode(StringArg(args, "tests"));
  auto res = AssembleContext(*ctx.engine, req);
  if (!res.ok()) return Failure(res.status());
  json parts = json::array();
  for (const auto& p : res->parts)
    parts.push_back({{"kind", p.kind},
                     {"path", p.path},
                     {"node_kind", p.node_kind},
                     {"file", p.file},
                     {"line", p.line},
                     {"tokens", p.tokens},
                     {"why", p.why},
                     {"shortened", p.shortened},
                     {"text", p.text}});
  ToolOutput out;
  out.text = res->markdown;
  out.structured = {
      {"question", res->question},   {"budget", res->budget}, {"total_tokens", res->total_tokens},
      {"tokenizer", res->tokenizer}, {"exact", res->exact},   {"parts", parts},
      {"omitted", res->omitted}};
  if (!res->warning.empty()) out.structured["warning"] = res->warning;
  return out;
}

// ---- index_status ----

ToolOutput IndexStatus(const ToolContext& ctx, const json& /*args*/) {
  auto s = ctx.engine->Stats();
  if (!s.ok()) return Failure(s.status());
  std::error_code ec;
  std::filesystem::path db = std::filesystem::absolute(ctx.db_path, ec);
  json latest = nullptr, root = nullptr;
  if (s->latest) {
    latest = {{"ordinal", s->latest->ordinal},
              {"version", s->latest->uuid.str()},
              {"time", TimeText(s->latest->time_ms)},
              {"time_ms", s->latest->time_ms}};
    json summary = json::parse(s->latest->summary, nullptr, /*allow_exceptions=*/false);
    if (summary.is_object() && summary.contains("root") && summary["root"].is_string())
      root = summary["root"];
  }
  return Success({{"database", ec ? ctx.db_path : db.lexically_normal().string()},
                  {"root", root},
                  {"crates", s->crates},
                  {"files", s->files},
                  {"nodes", s->nodes},
                  {"edges", s->edges},
                  {"versions", s->versions},
                  {"nodes_by_kind", s->nodes_by_kind},
                  {"edges_by_kind", s->edges_by_kind},
                  {"latest", latest}});
}

// ---- the table ----

json PathProperty(const std::string& description) {
  return {{"type", "string"}, {"minLength", 1}, {"maxLength", 4096}, {"description", description}};
}

json ObjectSchema(json properties, json required) {
  json schema = {
      {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

constexpr const char* kPathHelp =
    "A canonical path (demo::parse::Parser::new), a path suffix (Parser::new), a name, or a "
    "node id. An ambiguous one returns the candidates.";

std::vector<Tool> MakeTools() {
  std::vector<Tool> tools;
  const json tests = {
      {"type", "string"},
      {"enum", {"demote", "include", "exclude"}},
      {"default", "demote"},
      {"description",
       "Test code (under #[cfg(test)], #[test] and #[bench] functions): demote ranks it "
       "below the rest unless the text is about tests or names it; include ranks it like the "
       "rest; exclude leaves it out."}};
  tools.push_back(
      {"search_code", "Search code",
       "Find the Rust code about a topic or name in the indexed workspace: hybrid lexical "
       "(BM25) and embedding search with a call-graph boost. Each result has its path, kind, "
       "file, line, signature, score and why it was chosen.",
       ObjectSchema({{"query",
                      {{"type", "string"},
                       {"minLength", 1},
                       {"maxLength", 4096},
                       {"description", "What to look for: words, identifiers or a question."}}},
                     {"k",
                      {{"type", "integer"},
                       {"minimum", 1},
                       {"maximum", 100},
                       {"default", 10},
                       {"description", "How many results."}}},
                     {"kind",
                      {{"type", "string"},
                       {"enum", NodeKindNames()},
                       {"description", "Only nodes of this kind."}}},
                     {"tests", tests}},
                    {"query"}),
       SearchCode});
  tools.push_back(
      {"get_node", "Get a node",
       "One item of the code graph (function, method, struct, trait, impl, module, ...): its "
       "kind, path, file and lines, signature, docs, source, container, children and a summary "
       "of its edges (calls, implements, uses, ...).",
       ObjectSchema({{"path", PathProperty(kPathHelp)},
                     {"kind",
                      {{"type", "string"},
                       {"enum", NodeKindNames()},
                       {"description", "Only a node of this kind (narrows an ambiguous path)."}}}},
                    {"path"}),
       GetNode});
  json depth = {{"type", "integer"},
                {"minimum", 1},
                {"maximum", 10},
                {"default", 1},
                {"description", "Levels of calls to follow; 1 lists the direct ones only."}};
  tools.push_back(
      {"callers", "Callers of a function",
       "Who calls a function or method, transitively up to `depth` levels, as a call tree with "
       "the call sites (file, line, how the call was resolved).",
       ObjectSchema({{"path", PathProperty(kPathHelp)}, {"depth", depth}}, {"path"}),
       [](const ToolContext& c, const json& a) {
         return CallTreeTool(c, a, CallDirection::kCallers);
       }});
  tools.push_back(
      {"callees", "Callees of a function",
       "What a function or method calls, transitively up to `depth` levels, as a call tree with "
       "the call sites (file, line, how the call was resolved).",
       ObjectSchema({{"path", PathProperty(kPathHelp)}, {"depth", depth}}, {"path"}),
       [](const ToolContext& c, const json& a) {
         return CallTreeTool(c, a, CallDirection::kCallees);
       }});
  tools.push_back({"implementations", "Implementations",
                   "For a trait: its impls (impl path, self type) and the types deriving it. For "
                   "a type (struct, enum, union, alias): its impls, inherent and of traits, and "
                   "its derives.",
                   ObjectSchema({{"path", PathProperty(kPathHelp)}}, {"path"}), Implementations});
  tools.push_back(
      {"context_for", "Context for a question",
       "The code most relevant to a question, assembled to fit a token budget: a Markdown "
       "document of items (signatures, docs, source) chosen by search and the code graph, and "
       "the same parts as structured data.",
       ObjectSchema({{"question",
                      {{"type", "string"},
                       {"minLength", 1},
                       {"maxLength", 16384},
                       {"description", "The question or task to gather code for."}}},
                     {"budget",
                      {{"type", "integer"},
                       {"minimum", 1},
                       {"maximum", 200000},
                       {"description",
                        "At most this many tokens of context (default: the configured "
                        "context.default_budget, 8000 unless set)."}}},
                     {"tests", tests}},
                    {"question"}),
       ContextFor});
  tools.push_back({"index_status", "Index status",
                   "What the index holds: crates, files, nodes and edges (by kind), versions, "
                   "the latest version's id and time, the database path and the indexed root.",
                   ObjectSchema(json::object(), json::array()), IndexStatus});
  return tools;
}

}  // namespace

std::string TimeText(uint64_t time_ms) {
  time_t secs = static_cast<time_t>(time_ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm_utc);
  return fmt::format("{}.{:03}Z", buf, time_ms % 1000);
}

const std::vector<Tool>& Tools() {
  static const auto* tools = new std::vector<Tool>(MakeTools());
  return *tools;
}

const Tool* FindTool(const std::string& name) {
  for (const Tool& t : Tools())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace ferrograph::mcp
