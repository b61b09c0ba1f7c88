// The shared parts of the CLI (cli.h).
#include "cli/cli.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

namespace ferrograph::cli {

namespace fs = std::filesystem;

int Usage(const std::string& message, const std::string& command) {
  std::cerr << "ferrograph: " << message << "\n";
  std::cerr << (command.empty() ? "Run `ferrograph --help` for usage."
                                : "Run `ferrograph " + command + " --help` for usage.")
            << "\n";
  return kExitUsage;
}

int Fail(const Status& s) {
  std::cerr << "ferrograph: error: " << s.message() << "\n";
  return kExitError;
}

Result<std::string> FindDatabase(const Args& args) {
  auto it = args.values.find("--db");
  if (it != args.values.end()) return it->second;
  std::error_code ec;
  fs::path dir = fs::current_path(ec);
  while (!dir.empty()) {
    fs::path candidate = dir / ".ferrograph" / "graph.db";
    if (fs::exists(candidate, ec)) return candidate.string();
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  return Status::NotFound(
      "no database found: no .ferrograph/graph.db in this directory or above; run `ferrograph "
      "index PATH` first or pass --db FILE");
}

Result<std::unique_ptr<Engine>> OpenForReading(const Args& args) {
  FG_ASSIGN_OR_RETURN(std::string db, FindDatabase(args));
  Engine::Options o;
  o.db_path = db;
  o.read_only = true;
  FG_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(o));
  if (auto it = args.values.find("--as-of"); it != args.values.end()) {
    Result<VersionInfo> v = engine->PinVersion(it->second);
    if (!v.ok()) return v.status().WithContext("--as-of " + it->second);
  }
  return engine;
}

std::optional<uint64_t> ParseCount(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string HumanBytes(double b) {
  if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.2f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

json VersionJson(const VersionInfo& v) {
  return {{"ordinal", v.ordinal}, {"version", v.uuid.str()}, {"time_ms", v.time_ms}};
}

json DeltaJson(const WriteStats& d) {
  return {{"nodes_added", d.nodes_added},     {"nodes_removed", d.nodes_removed},
          {"nodes_changed", d.nodes_changed}, {"nodes_moved", d.nodes_moved},
          {"edges_added", d.edges_added},     {"edges_removed", d.edges_removed},
          {"edges_moved", d.edges_moved},     {"files_added", d.files_added},
          {"files_changed", d.files_changed}, {"files_removed", d.files_removed}};
}

json NodeJson(const Node& n) {
  json j = {{"id", n.id.str()},
            {"kind", KindName(n.kind)},
            {"name", n.name},
            {"path", n.path},
            {"crate", n.crate_name},
            {"file", n.file},
            {"line", n.span.start_line},
            {"end_line", n.span.end_line},
            {"start_byte", n.span.start_byte},
            {"end_byte", n.span.end_byte},
            {"visibility", VisibilityName(n.visibility)},
            {"signature", n.signature},
            {"docs", n.docs},
            {"cfg", n.cfgs},
            {"derive", n.derives},
            {"attrs", n.attrs},
            {"content_hash", n.content_hash.str()}};
  if (!n.in_macro.empty()) j["in_macro"] = n.in_macro;
  return j;
}

std::string Where(const Node& n) {
  if (n.span.start_line == 0 || n.file.empty() || n.file[0] == '#') return "";
  return fmt::format("  ({}:{})", n.file, n.span.start_line);
}

std::string SourceForDisplay(std::string_view source) {
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < source.size();) {
    size_t nl = source.find('\n', at);
    size_t end = nl == std::string_view::npos ? source.size() : nl;
    lines.push_back(source.substr(at, end - at));
    at = end + 1;
  }
  // The whitespace every non-blank line after the first starts with.
  std::optional<std::string_view> common;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    size_t text = l.find_first_not_of(" \t");
    if (text == std::string_view::npos) continue;  // blank
    std::string_view indent = l.substr(0, text);
    if (!common) {
      common = indent;
      continue;
    }
    size_t n = 0;
    while (n < common->size() && n < indent.size() && (*common)[n] == indent[n]) ++n;
    common = common->substr(0, n);
  }
  std::string out;
  out.reserve(source.size() + 1);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (i > 0 && common) l.remove_prefix(std::min(common->size(), l.size()));
    out.append(l);
    out.push_back('\n');
  }
  return out;
}

int ListCandidates(const std::string& query, const std::vector<Node>& candidates, bool json_out,
                   const std::string& hint) {
  if (json_out) {
    json c = json::array();
    for (const Node& n : candidates)
      c.push_back({{"id", n.id.str()},
                   {"kind", KindName(n.kind)},
                   {"path", n.path},
                   {"file", n.file},
                   {"line", n.span.start_line}});
    std::cout << json{{"error", "ambiguous"}, {"query", query}, {"candidates", c}}.dump(2) << "\n";
  } else {
    fmt::print(stderr, "ferrograph: `{}` is ambiguous: {} candidates\n", query, candidates.size());
    for (const Node& n : candidates)
      fmt::print("  {:<13} {}{}  id {}\n", KindName(n.kind), n.path, Where(n), n.id.str());
    fmt::print(stderr, "{}\n", hint);
  }
  return kExitError;
}

std::optional<std::vector<Node>> ResolveName(Engine& engine, const std::string& query,
                                             const std::function<bool(NodeKind)>& preferred,
                                             bool json_out, int* exit) {
  auto found = engine.Find(query, 500);
  if (!found.ok()) {
    *exit = Fail(found.status());
    return std::nullopt;
  }
  bool any_preferred = false;
  for (const Node& n : *found) any_preferred |= preferred && preferred(n.kind);
  std::map<std::pair<std::string, std::string>, std::vector<Node>> candidates;
  for (Node& n : *found) {
    if (any_preferred && !preferred(n.kind)) continue;
    std::string key = n.kind == NodeKind::kExternal ? "" : n.id.str();
    candidates[{n.path, key}].push_back(std::move(n));
  }
  if (candidates.empty()) {
    *exit = Fail(Status::NotFound("no node matches `" + query + "`"));
    return std::nullopt;
  }
  if (candidates.size() > 1) {
    std::vector<Node> firsts;
    for (const auto& [k, nodes] : candidates) firsts.push_back(nodes[0]);
    *exit = ListCandidates(query, firsts, json_out, "narrow it with a longer path or an id");
    return std::nullopt;
  }
  return std::move(candidates.begin()->second);
}

json IdsJson(const std::vector<Node>& nodes) {
  json ids = json::array();
  for (const Node& n : nodes) ids.push_back(n.id.str());
  return ids;
}

std::vector<NodeId> Ids(const std::vector<Node>& nodes) {
  std::vector<NodeId> ids;
  for (const Node& n : nodes) ids.push_back(n.id);
  return ids;
}

json BriefNodeJson(const Node& n) {
  return {{"kind", KindName(n.kind)},
          {"path", n.path},
          {"id", n.id.str()},
          {"file", n.file},
          {"line", n.span.start_line}};
}

std::optional<uint64_t> CountOption(const Args& args, const std::string& name, uint64_t fallback,
                                    uint64_t lo, uint64_t hi) {
  auto it = args.values.find(name);
  if (it == args.values.end()) return fallback;
  auto n = ParseCount(it->second);
  if (!n || *n < lo || *n > hi) return std::nullopt;
  return n;
}

}  // namespace ferrograph::cli
