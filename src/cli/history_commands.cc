// `ferrograph log`, `history` and `diff` (history_commands.h).
#include "cli/history_commands.h"

#include <time.h>

#include <fmt/core.h>

#include <iostream>
#include <map>
#include <unordered_map>

namespace ferrograph::cli {

std::string TimeText(uint64_t time_ms) {
  time_t secs = static_cast<time_t>(time_ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm_utc);
  return fmt::format("{}.{:03}Z", buf, time_ms % 1000);
}

namespace {

json VersionBrief(const VersionInfo& v) {
  return {{"ordinal", v.ordinal},
          {"version", v.uuid.str()},
          {"time", TimeText(v.time_ms)},
          {"time_ms", v.time_ms}};
}

json Paths(const std::vector<Node>& nodes) {
  json out = json::array();
  for (const Node& n : nodes) out.push_back(n.path);
  return out;
}

json Paths(const std::vector<GraphDiff::Change>& changes) {
  json out = json::array();
  for (const GraphDiff::Change& c : changes) out.push_back(c.after.path);
  return out;
}

std::string Location(const Node& n) {
  if (n.file.empty() || n.file[0] == '#') return "";
  return fmt::format("{}:{}-{}", n.file, n.span.start_line, n.span.end_line);
}

}  // namespace

json ChangeEventJson(const VersionInfo& to, const VersionInfo& from, const GraphDiff& diff) {
  json j = {{"version", to.uuid.str()},
            {"ordinal", to.ordinal},
            {"time", TimeText(to.time_ms)},
            {"time_ms", to.time_ms},
            {"from", from.ordinal > 0 ? json(from.uuid.str()) : json(nullptr)},
            {"added", Paths(diff.added)},
            {"removed", Paths(diff.removed)},
            {"changed", Paths(diff.changed)},
            {"moved", Paths(diff.moved)}};
  return j;
}

int CmdLog(const Args& args) {
  if (!args.positional.empty()) return Usage("log takes no arguments", "log");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto versions = (*engine)->Versions();
  if (!versions.ok()) return Fail(versions.status());
  bool json_out = args.flags.count("--json");
  json out = json::array();
  for (const VersionInfo& v : *versions) {
    json summary = json::parse(v.summary, nullptr, /*allow_exceptions=*/false);
    if (!summary.is_object()) summary = json::object();
    if (json_out) {
      json j = VersionBrief(v);
      j["summary"] = summary;
      out.push_back(std::move(j));
      continue;
    }
    auto num = [&](const char* k) -> int64_t {
      auto it = summary.find(k);
      return it != summary.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
    };
    fmt::print("#{:<5} {}  {}  +{} -{} ~{} nodes, +{} -{} edges, {} files parsed\n", v.ordinal,
               v.uuid.str(), TimeText(v.time_ms), num("nodes_added"), num("nodes_removed"),
               num("nodes_changed"), num("edges_added"), num("edges_removed"), num("files_parsed"));
  }
  if (json_out) std::cout << json{{"versions", out}}.dump(2) << "\n";
  return kExitOk;
}

int CmdHistory(const Args& args) {
  if (args.positional.size() != 1) return Usage("history needs exactly one PATH", "history");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  const std::string& query = args.positional[0];
  bool json_out = args.flags.count("--json");
  bool with_source = args.flags.count("--source");
  auto revs = (*engine)->History(query, with_source || json_out);
  if (!revs.ok()) return Fail(revs.status());
  if (revs->empty())
    return Fail(Status::NotFound("no node, current or past, matches `" + query + "`"));
  auto versions = (*engine)->Versions();
  if (!versions.ok()) return Fail(versions.status());
  std::map<int64_t, const VersionInfo*> by_ordinal;
  for (const VersionInfo& v : *versions) by_ordinal[v.ordinal] = &v;
  auto version_json = [&](std::optional<int64_t> ordinal) -> json {
    if (!ordinal) return nullptr;
    auto it = by_ordinal.find(*ordinal);
    if (it == by_ordinal.end()) return json{{"ordinal", *ordinal}};  // dropped by gc
    return VersionBrief(*it->second);
  };
  auto version_text = [&](int64_t ordinal) {
    auto it = by_ordinal.find(ordinal);
    if (it == by_ordinal.end()) return fmt::format("#{} (dropped)", ordinal);
    return fmt::format("#{} {}", ordinal, TimeText(it->second->time_ms));
  };
  if (json_out) {
    json nodes = json::array();
    for (size_t i = 0; i < revs->size();) {
      const Node& first = (*revs)[i].node;
      json states = json::array();
      size_t j = i;
      for (; j < revs->size() && (*revs)[j].node.id == first.id; ++j) {
        const NodeRevision& r = (*revs)[j];
        json s = {{"from", version_json(r.valid_from)},
                  {"to", version_json(r.valid_to)},
                  {"content_hash", r.node.content_hash.str()},
                  {"node", NodeJson(r.node)}};
        s["source"] = r.source ? json(*r.source) : json(nullptr);
        states.push_back(std::move(s));
      }
      nodes.push_back({{"id", first.id.str()},
                       {"path", (*revs)[j - 1].node.path},
                       {"kind", KindName(first.kind)},
                       {"states", std::move(states)}});
      i = j;
    }
    std::cout << json{{"query", query}, {"nodes", nodes}}.dump(2, ' ', false,
                                                               json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  }
  NodeId shown;
  for (const NodeRevision& r : *revs) {
    if (r.node.id != shown) {
      shown = r.node.id;
      fmt::print("{} {}  id {}\n", KindName(r.node.kind), r.node.path, r.node.id.str());
    }
    std::string until = r.valid_to ? "until " + version_text(*r.valid_to) : "current";
    fmt::print("  from {}, {}: content {}  {}\n", version_text(r.valid_from), until,
               r.node.content_hash.str().substr(0, 16), Location(r.node));
    if (with_source) {
      if (r.source) {
        fmt::print("{}\n", SourceForDisplay(*r.source));
      } else {
        fmt::print("    (no source text)\n\n");
      }
    }
  }
  return kExitOk;
}

int CmdDiff(const Args& args) {
  if (args.positional.empty() || args.positional.size() > 2)
    return Usage("diff needs V1 and optionally V2 (default: the latest version)", "diff");
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto from = (*engine)->ResolveVersion(args.positional[0]);
  if (!from.ok()) return Fail(from.status());
  auto to = (*engine)->ResolveVersion(args.positional.size() == 2 ? args.positional[1] : "latest");
  if (!to.ok()) return Fail(to.status());
  bool edges = args.flags.count("--edges");
  bool json_out = args.flags.count("--json");
  auto d = (*engine)->Diff(*from, *to, edges || json_out);
  if (!d.ok()) return Fail(d.status());
  // Edge ends by path: as of `to`, else as of `from` (a removed node).
  std::unordered_map<NodeId, std::string, FixedBytesHash> paths;
  for (const VersionInfo* v : {&*to, &*from}) {
    if (d->edges_added.empty() && d->edges_removed.empty()) break;
    auto pinned = (*engine)->PinVersion(std::to_string(v->ordinal));
    if (!pinned.ok()) return Fail(pinned.status());
    for (const auto* list : {&d->edges_added, &d->edges_removed}) {
      for (const Edge& e : *list) {
        for (const NodeId& id : {e.src, e.dst}) {
          if (paths.count(id)) continue;
          auto found = (*engine)->Find(id.str(), 1);
          if (!found.ok()) return Fail(found.status());
          if (!found->empty()) paths.emplace(id, (*found)[0].path);
        }
      }
    }
  }
  auto end_path = [&](const NodeId& id) -> std::string {
    auto it = paths.find(id);
    return it != paths.end() ? it->second : id.str();
  };
  if (json_out) {
    auto nodes = [](const std::vector<Node>& list) {
      json out = json::array();
      for (const Node& n : list) out.push_back(BriefNodeJson(n));
      return out;
    };
    auto changes = [](const std::vector<GraphDiff::Change>& list) {
      json out = json::array();
      for (const GraphDiff::Change& c : list) {
        json j = BriefNodeJson(c.after);
        j["content_hash_before"] = c.before.content_hash.str();
        j["content_hash_after"] = c.after.content_hash.str();
        out.push_back(std::move(j));
      }
      return out;
    };
    auto edge_list = [&](const std::vector<Edge>& list) {
      json out = json::array();
      for (const Edge& e : list) {
        json j = {{"kind", KindName(e.kind)},
                  {"src", end_path(e.src)},
                  {"dst", end_path(e.dst)},
                  {"file", e.file}};
        if (e.line) j["line"] = e.line;
        out.push_back(std::move(j));
      }
      return out;
    };
    json j = {{"from", VersionBrief(*from)},
              {"to", VersionBrief(*to)},
              {"added", nodes(d->added)},
              {"removed", nodes(d->removed)},
              {"changed", changes(d->changed)},
              {"moved", changes(d->moved)},
              {"edges_added", edge_list(d->edges_added)},
              {"edges_removed", edge_list(d->edges_removed)},
              {"edges_moved", d->edges_moved}};
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  fmt::print("#{} ({}) -> #{} ({}): +{} -{} ~{} nodes ({} moved)", from->ordinal,
             TimeText(from->time_ms), to->ordinal, TimeText(to->time_ms), d->added.size(),
             d->removed.size(), d->changed.size(), d->moved.size());
  if (edges)
    fmt::print(", +{} -{} edges ({} moved)", d->edges_added.size(), d->edges_removed.size(),
               d->edges_moved);
  fmt::print("\n");
  for (const Node& n : d->added)
    fmt::print("  + {:<13} {}{}\n", KindName(n.kind), n.path, Where(n));
  for (const Node& n : d->removed)
    fmt::print("  - {:<13} {}{}\n", KindName(n.kind), n.path, Where(n));
  for (const GraphDiff::Change& c : d->changed)
    fmt::print("  ~ {:<13} {}{}\n", KindName(c.after.kind), c.after.path, Where(c.after));
  if (edges) {
    for (const Edge& e : d->edges_added)
      fmt::print("  + {:<13} {} -> {}\n", KindName(e.kind), end_path(e.src), end_path(e.dst));
    for (const Edge& e : d->edges_removed)
      fmt::print("  - {:<13} {} -> {}\n", KindName(e.kind), end_path(e.src), end_path(e.dst));
  }
  return kExitOk;
}

}  // namespace ferrograph::cli
