// The store's history: a node's states across versions, the difference
// between two versions, the graph's counts as of a version, and dropping
// old versions.
#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "store/node_rows.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace ferrograph {

namespace {

// Node columns of a row aliased `n`, in the order ReadNode reads them, then
// its validity.
constexpr std::string_view kRevisionColumns =
    "n.id, n.kind, n.name, n.path, n.crate, (SELECT path FROM file_keys WHERE file_keys.id = "
    "n.file_key), n.start_byte, n.end_byte, n.start_line, n.end_line, n.visibility, "
    "n.signature, n.docs, n.attrs, n.content_hash, n.parent, n.file_key, n.valid_from, "
    "n.valid_to";

NodeRevision ReadRevision(const Statement& st) {
  NodeRevision r;
  r.node = ReadNode(st, 0);
  r.valid_from = st.Int(kNodeColumnCount);
  if (!st.IsNull(kNodeColumnCount + 1)) r.valid_to = st.Int(kNodeColumnCount + 1);
  return r;
}

// The last version at which a row valid until `valid_to` (exclusive; none:
// still current) holds, for a SpanFixer (nullopt: the current version).
std::optional<int64_t> LastVersionOf(std::optional<int64_t> valid_to) {
  if (!valid_to) return std::nullopt;
  return *valid_to - 1;
}

bool ValidAt(int64_t from, std::optional<int64_t> to, int64_t v) {
  return from <= v && (!to || *to > v);
}

Result<int64_t> Scalar(Database& db, std::string_view sql) {
  FG_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.IsNull(0)) return int64_t{0};
  return st.Int(0);
}

std::string EscapeLike(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<std::vector<NodeRevision>> Store::NodeRevisions(const std::string& query, int limit) {
  // The same lookups as FindNodes, over every kept row: the ids first (so
  // that a node's whole history comes, not only its rows under that path),
  // then their rows.
  std::string last = query;
  if (size_t p = query.rfind("::"); p != std::string::npos) last = query.substr(p + 2);
  std::vector<std::string> lookups = {
      "name = ?3 AND path = ?1",
      "name = ?3 AND path LIKE '%::' || ?2 ESCAPE '\\'",
      "path = ?1",
  };
  std::vector<NodeId> ids;
  if (auto id = NodeId::FromHex(query)) ids.push_back(*id);
  for (size_t i = 0; i < lookups.size() && ids.empty(); ++i) {
    FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT DISTINCT id FROM nodes WHERE " +
                                                   lookups[i] + " LIMIT ?4"));
    st.Bind(1, query).Bind(2, EscapeLike(query)).Bind(3, last).Bind(4, int64_t{1000});
    for (;;) {
      FG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ids.push_back(st.Bytes<NodeId>(0));
    }
  }
  std::vector<NodeRevision> out;
  FG_ASSIGN_OR_RETURN(Statement rows,
                      db_->Prepare(std::string("SELECT ") + std::string(kRevisionColumns) +
                                   " FROM nodes n WHERE n.id = ?1 ORDER BY n.valid_from"));
  for (const NodeId& id : ids) {
    rows.Bind(1, id);
    for (;;) {
      FG_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      if (static_cast<int>(out.size()) >= limit) return out;
      NodeRevision r = ReadRevision(rows);
      // An edit above the item moves it without a new row: its span is the
      // one at the row's last version (span_overlay.h), where `show` of that
      // version finds it.
      SpanFixer spans(*db_, overlays_, LastVersionOf(r.valid_to));
      FG_RETURN_IF_ERROR(spans.Fix(rows.Int(kNodeFileKeyColumn), &r.node));
      out.push_back(std::move(r));
    }
    rows.Reset();
  }
  // Nodes by path, then each node's states in version order.
  std::stable_sort(out.begin(), out.end(), [](const NodeRevision& a, const NodeRevision& b) {
    return std::tie(a.node.path, a.node.id) < std::tie(b.node.path, b.node.id);
  });
  return out;
}

Result<std::optional<std::string>> Store::RevisionSource(const NodeId& id, int64_t valid_from) {
  // Any state of the node's file while the node row is valid holds the
  // row's text (an edit inside the item makes a new row), at the span the
  // file's overlay gives at that state (an edit above it moves it without
  // one). The newest such state is taken: `gc --keep` keeps it longest.
  FG_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("SELECT n.start_byte, n.end_byte, c.text, n.file_key, "
                   "min(coalesce(n.valid_to, f.valid_to), coalesce(f.valid_to, n.valid_to)) "
                   "FROM nodes n "
                   "JOIN files f ON f.file_key = n.file_key AND "
                   "f.valid_from < coalesce(n.valid_to, 9223372036854775807) AND "
                   "coalesce(f.valid_to, 9223372036854775807) > n.valid_from "
                   "JOIN contents c ON c.hash = f.hash "
                   "WHERE n.id = ?1 AND n.valid_from = ?2 ORDER BY f.valid_from DESC LIMIT 1"));
  st.Bind(1, id).Bind(2, valid_from);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  int64_t begin = st.Int(0), end = st.Int(1);
  std::string_view text = st.TextView(2);
  // The state: the last version both rows hold at (none: both current).
  SpanFixer spans(*db_, overlays_,
                  LastVersionOf(st.IsNull(4) ? std::nullopt : std::optional<int64_t>(st.Int(4))));
  FG_RETURN_IF_ERROR(spans.FixBytes(st.Int(3), id, &begin, &end));
  if (begin < 0 || end < begin || static_cast<size_t>(end) > text.size())
    return Status::Corruption(path_ + ": node " + id.str() + " (version " +
                              std::to_string(valid_from) + ") spans bytes " +
                              std::to_string(begin) + ".." + std::to_string(end) +
                              " outside its file's " + std::to_string(text.size()) + " bytes");
  return std::optional<std::string>(std::string(text.substr(begin, end - begin)));
}

Result<GraphDiff> Store::Diff(int64_t from, int64_t to, bool with_edges) {
  GraphDiff d;
  d.from = from;
  d.to = to;
  d.with_edges = with_edges;
  if (from == to) return d;
  const int64_t lo = std::min(from, to), hi = std::max(from, to);
  // Only rows opened or closed by a version in (lo, hi] can differ between
  // the two: nodes_from and nodes_to find them.
  FG_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(std::string("SELECT ") + std::string(kRevisionColumns) +
                   " FROM nodes n WHERE (n.valid_from > ?1 AND n.valid_from <= ?2) OR "
                   "(n.valid_to > ?1 AND n.valid_to <= ?2)"));
  st.Bind(1, lo).Bind(2, hi);
  struct Pair {
    std::optional<Node> before, after;
  };
  std::unordered_map<NodeId, Pair, FixedBytesHash> by_id;
  // Each side's spans as of its version (span_overlay.h).
  SpanFixer spans_from(*db_, overlays_, from), spans_to(*db_, overlays_, to);
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    NodeRevision r = ReadRevision(st);
    bool at_from = ValidAt(r.valid_from, r.valid_to, from);
    bool at_to = ValidAt(r.valid_from, r.valid_to, to);
    if (at_from == at_to) continue;  // both (unchanged) or neither (lived in between)
    FG_RETURN_IF_ERROR((at_from ? spans_from : spans_to).Fix(st.Int(kNodeFileKeyColumn), &r.node));
    Pair& p = by_id[r.node.id];
    (at_from ? p.before : p.after) = std::move(r.node);
  }
  // Rows kept through (lo, hi] whose items moved: the overlays of the files
  // whose overlay changed in between differ for them.
  std::vector<int64_t> overlay_files;
  {
    FG_ASSIGN_OR_RETURN(
        Statement os,
        db_->Prepare("SELECT DISTINCT file_key FROM spans WHERE (valid_from > ?1 AND valid_from "
                     "<= ?2) OR (valid_to > ?1 AND valid_to <= ?2)"));
    os.Bind(1, lo).Bind(2, hi);
    for (;;) {
      FG_ASSIGN_OR_RETURN(bool row, os.Step());
      if (!row) break;
      overlay_files.push_back(os.Int(0));
    }
  }
  std::vector<std::pair<int64_t, std::pair<uint32_t, uint32_t>>> moved_edge_lines;  // rowid, lines
  if (!overlay_files.empty()) {
    FG_ASSIGN_OR_RETURN(
        Statement kept,
        db_->Prepare(std::string("SELECT ") + std::string(kRevisionColumns) +
                     " FROM nodes n WHERE n.id = ?1 AND n.valid_from <= ?2 AND (n.valid_to IS "
                     "NULL OR n.valid_to > ?3)"));
    for (int64_t file_key : overlay_files) {
      FG_ASSIGN_OR_RETURN(std::shared_ptr<const SpanOverlay> o1,
                          overlays_.Get(*db_, file_key, from));
      FG_ASSIGN_OR_RETURN(std::shared_ptr<const SpanOverlay> o2, overlays_.Get(*db_, file_key, to));
      static const SpanOverlay kNone;
      const SpanOverlay& a = o1 ? *o1 : kNone;
      const SpanOverlay& b = o2 ? *o2 : kNone;
      std::vector<NodeId> ids;
      for (const auto& [id, span] : a.nodes) {
        auto it = b.nodes.find(id);
        if (it == b.nodes.end() || span != it->second) ids.push_back(id);
      }
      for (const auto& [id, span] : b.nodes)
        if (!a.nodes.count(id)) ids.push_back(id);
      for (const NodeId& id : ids) {
        if (by_id.count(id)) continue;  // its row changed: paired above
        kept.Bind(1, id).Bind(2, lo).Bind(3, hi);
        FG_ASSIGN_OR_RETURN(bool row, kept.Step());
        if (row) {
          Node base = ReadRevision(kept).node;
          Node before = base, after = std::move(base);
          if (auto it = a.nodes.find(id); it != a.nodes.end()) before.span = it->second;
          if (auto it = b.nodes.find(id); it != b.nodes.end()) after.span = it->second;
          if (before.span != after.span) d.moved.push_back({std::move(before), std::move(after)});
        }
        kept.Reset();
      }
      for (const auto& [rowid, line] : a.edge_lines) {
        auto it = b.edge_lines.find(rowid);
        if (it == b.edge_lines.end() || it->second != line)
          moved_edge_lines.push_back({rowid, {line, it == b.edge_lines.end() ? 0 : it->second}});
      }
      for (const auto& [rowid, line] : b.edge_lines)
        if (!a.edge_lines.count(rowid)) moved_edge_lines.push_back({rowid, {0, line}});
    }
  }
  for (auto& [id, p] : by_id) {
    if (p.before && p.after) {
      auto& list = p.before->content_hash == p.after->content_hash ? d.moved : d.changed;
      list.push_back({std::move(*p.before), std::move(*p.after)});
    } else if (p.after) {
      d.added.push_back(std::move(*p.after));
    } else {
      d.removed.push_back(std::move(*p.before));
    }
  }
  auto by_path = [](const Node& a, const Node& b) {
    return std::tie(a.path, a.kind, a.id) < std::tie(b.path, b.kind, b.id);
  };
  std::sort(d.added.begin(), d.added.end(), by_path);
  std::sort(d.removed.begin(), d.removed.end(), by_path);
  for (auto* list : {&d.changed, &d.moved})
    std::sort(list->begin(), list->end(),
              [&](const auto& a, const auto& b) { return by_path(a.after, b.after); });
  if (!with_edges) return d;
  FG_ASSIGN_OR_RETURN(
      Statement es,
      db_->Prepare("SELECT kind, src, dst, (SELECT path FROM file_keys WHERE file_keys.id = "
                   "file_key), line, props, valid_from, valid_to, file_key, rowid FROM edges "
                   "WHERE (valid_from > ?1 AND valid_from <= ?2) OR "
                   "(valid_to > ?1 AND valid_to <= ?2) ORDER BY rowid"));
  es.Bind(1, lo).Bind(2, hi);
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, es.Step());
    if (!row) break;
    std::optional<int64_t> valid_to;
    if (!es.IsNull(7)) valid_to = es.Int(7);
    bool at_from = ValidAt(es.Int(6), valid_to, from);
    bool at_to = ValidAt(es.Int(6), valid_to, to);
    if (at_from == at_to) continue;
    Edge e;
    e.kind = ParseEdgeKind(es.TextView(0)).value_or(EdgeKind::kContains);
    e.src = es.Bytes<NodeId>(1);
    e.dst = es.Bytes<NodeId>(2);
    e.file = es.Text(3);
    e.line = static_cast<uint32_t>(es.Int(4));
    e.props = es.Text(5);
    FG_RETURN_IF_ERROR((at_to ? spans_to : spans_from).FixLine(es.Int(8), es.Int(9), &e.line));
    (at_to ? d.edges_added : d.edges_removed).push_back(std::move(e));
  }
  // Edge rows kept through (lo, hi] whose sites moved (overlay entries that
  // differ, of rows valid at both versions).
  if (!moved_edge_lines.empty()) {
    FG_ASSIGN_OR_RETURN(Statement kept,
                        db_->Prepare("SELECT line FROM edges WHERE rowid = ?1 AND valid_from <= "
                                     "?2 AND (valid_to IS NULL OR valid_to > ?3)"));
    for (const auto& [rowid, lines] : moved_edge_lines) {
      kept.Bind(1, rowid).Bind(2, lo).Bind(3, hi);
      FG_ASSIGN_OR_RETURN(bool row, kept.Step());
      if (row) {
        auto base = static_cast<uint32_t>(kept.Int(0));
        uint32_t a = lines.first ? lines.first : base, b = lines.second ? lines.second : base;
        if (a != b) ++d.edges_moved;
      }
      kept.Reset();
    }
  }
  // An edge removed and added again with only its line changed moved.
  auto lineless = LinelessEdgeKey;
  std::unordered_map<std::string, int64_t> removed_keys;
  for (const Edge& e : d.edges_removed) ++removed_keys[lineless(e)];
  std::unordered_map<std::string, int64_t> moved;
  std::vector<Edge> added;
  for (Edge& e : d.edges_added) {
    std::string key = lineless(e);
    auto it = removed_keys.find(key);
    if (it != removed_keys.end() && it->second > 0) {
      --it->second;
      ++moved[key];
      ++d.edges_moved;
    } else {
      added.push_back(std::move(e));
    }
  }
  d.edges_added = std::move(added);
  std::vector<Edge> removed;
  for (Edge& e : d.edges_removed) {
    auto it = moved.find(lineless(e));
    if (it != moved.end() && it->second > 0) {
      --it->second;
    } else {
      removed.push_back(std::move(e));
    }
  }
  d.edges_removed = std::move(removed);
  return d;
}

Result<GraphStats> Store::StatsAsOf(int64_t ordinal) {
  // The counts table holds the current graph; an earlier one is counted.
  GraphStats s;
  Database& db = *db_;
  FG_ASSIGN_OR_RETURN(s.versions, Scalar(db, "SELECT count(*) FROM versions WHERE ordinal <= " +
                                                 std::to_string(ordinal)));
  FG_ASSIGN_OR_RETURN(s.contents, Scalar(db, "SELECT count(*) FROM contents"));
  FG_ASSIGN_OR_RETURN(Statement nodes, db.Prepare("SELECT kind, count(*) FROM nodes WHERE " +
                                                  Live() + " GROUP BY kind"));
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, nodes.Step());
    if (!row) break;
    s.nodes_by_kind[nodes.Text(0)] = nodes.Int(1);
    s.nodes += nodes.Int(1);
  }
  FG_ASSIGN_OR_RETURN(Statement edges, db.Prepare("SELECT kind, count(*) FROM edges WHERE " +
                                                  Live() + " GROUP BY kind"));
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, edges.Step());
    if (!row) break;
    s.edges_by_kind[edges.Text(0)] = edges.Int(1);
    s.edges += edges.Int(1);
  }
  FG_ASSIGN_OR_RETURN(
      int64_t contains,
      Scalar(db, "SELECT count(*) FROM nodes WHERE parent IS NOT NULL AND " + Live()));
  if (contains) {
    s.edges_by_kind["CONTAINS"] = contains;
    s.edges += contains;
  }
  FG_ASSIGN_OR_RETURN(Statement files, db.Prepare("SELECT count(*) FROM files WHERE " + Live() +
                                                  " AND crate != ?1 AND path != ?2"));
  files.Bind(1, kUnreachedFilesCrate).Bind(2, kExternalNodesFile);
  FG_ASSIGN_OR_RETURN(bool frow, files.Step());
  if (frow) s.files = files.Int(0);
  auto it = s.nodes_by_kind.find("crate");
  s.crates = it == s.nodes_by_kind.end() ? 0 : it->second;
  FG_ASSIGN_OR_RETURN(Statement v, db.Prepare("SELECT ordinal, uuid, time_ms, summary FROM "
                                              "versions WHERE ordinal = ?1"));
  v.Bind(1, ordinal);
  FG_ASSIGN_OR_RETURN(bool vrow, v.Step());
  if (vrow) {
    VersionInfo info;
    info.ordinal = v.Int(0);
    info.uuid = Version::Parse(v.TextView(1)).value_or(Version());
    info.time_ms = static_cast<uint64_t>(v.Int(2));
    info.summary = v.Text(3);
    s.latest = info;
  }
  return s;
}

Result<HistoryGcReport> Store::DropVersionsBefore(int64_t keep_from) {
  Database& db = *db_;
  // Current rows stay, but the kept rows are not worth reasoning about here.
  kept_rows_->Clear();
  HistoryGcReport r;
  const std::string k = std::to_string(keep_from);
  FG_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status s = [&]() -> Status {
    // A row closed at or before keep_from is invisible from keep_from on.
    FG_RETURN_IF_ERROR(db.Exec("DELETE FROM nodes WHERE valid_to <= " + k));
    r.node_rows_removed = db.Changes();
    FG_RETURN_IF_ERROR(db.Exec("DELETE FROM edges WHERE valid_to <= " + k));
    r.edge_rows_removed = db.Changes();
    FG_RETURN_IF_ERROR(db.Exec("DELETE FROM files WHERE valid_to <= " + k));
    r.file_rows_removed = db.Changes();
    FG_RETURN_IF_ERROR(db.Exec("DELETE FROM spans WHERE valid_to <= " + k));
    FG_RETURN_IF_ERROR(db.Exec("DELETE FROM versions WHERE ordinal < " + k));
    r.versions_removed = db.Changes();
    FG_RETURN_IF_ERROR(
        db.Exec("DELETE FROM contents WHERE NOT EXISTS(SELECT 1 FROM files f WHERE f.hash = "
                "contents.hash)"));
    r.contents_removed = db.Changes();
    // The lexical index and the embedding marks are keyed by node rowid,
    // and a deleted rowid may be used again: empty the one (to be filled
    // again from the kept rows) and forget the others.
    if (r.node_rows_removed > 0) {
      FG_RETURN_IF_ERROR(db.Exec("DELETE FROM meta WHERE key LIKE 'embedded_rowid:%'"));
      FG_RETURN_IF_ERROR(
          db.Exec("INSERT INTO lexical(lexical) VALUES('delete-all');"
                  "INSERT INTO meta(key, value) VALUES('lexical_rowid', '0') "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value;"
                  // Readers keep row lengths by rowid (lexical_rank.h): a
                  // new epoch tells them to forget those.
                  "INSERT INTO meta(key, value) VALUES('lexical_epoch', '1') "
                  "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1;"));
    }
    return db.Exec("COMMIT");
  }();
  if (!s.ok()) {
    db.Exec("ROLLBACK");
    return s.WithContext("dropping versions before #" + k);
  }
  return r;
}

}  // namespace ferrograph
