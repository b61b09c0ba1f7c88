#include "store/store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/version_generator.h"
#include "store/lexical_rank.h"
#include "store/node_rows.h"
#include "store/sqlite.h"

namespace ferrograph {

namespace {

// 'FGRF': marks the file as a ferrograph database.
constexpr int64_t kApplicationId = 0x46475246;

// The page cache of a writing connection, and the smaller one while a bulk
// load builds its indexes (WriteTxn::Commit), in KiB.
constexpr int kWriterCacheKiB = 256 * 1024;
constexpr int kIndexBuildCacheKiB = 4 * 1024;
// How much of the file a bulk load's index build reads through a memory map
// (SQLite caps it at its build's maximum, 2 GB for Debian's).
constexpr int64_t kIndexBuildMmapBytes = int64_t{2} << 30;

// Forward-only migrations; kMigrations[i] takes schema i to i+1.
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE versions(
  ordinal INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  time_ms INTEGER NOT NULL,
  summary TEXT NOT NULL DEFAULT '{}');
-- Counts of the current graph ("node:function", "edge:CONTAINS", "files"),
-- kept by every write so that stats never scan the graph.
CREATE TABLE counts(key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE contents(rowid INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, text TEXT NOT NULL);
CREATE TABLE file_keys(
  id INTEGER PRIMARY KEY,
  crate TEXT NOT NULL,
  path TEXT NOT NULL,
  UNIQUE(crate, path));
CREATE TABLE files(
  rowid INTEGER PRIMARY KEY,
  crate TEXT NOT NULL,
  path TEXT NOT NULL,
  module_path TEXT NOT NULL,
  like_mod_rs INTEGER NOT NULL,
  module_disambiguator INTEGER NOT NULL,
  hash BLOB NOT NULL,
  size INTEGER NOT NULL,
  mods TEXT NOT NULL,
  file_key INTEGER NOT NULL REFERENCES file_keys(id),
  valid_from INTEGER NOT NULL,
  valid_to INTEGER);
CREATE UNIQUE INDEX files_current ON files(crate, path) WHERE valid_to IS NULL;
CREATE TABLE nodes(
  rowid INTEGER PRIMARY KEY,
  id BLOB NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  crate TEXT NOT NULL,
  file_key INTEGER NOT NULL REFERENCES file_keys(id),
  start_byte INTEGER NOT NULL,
  end_byte INTEGER NOT NULL,
  start_line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  visibility TEXT NOT NULL,
  signature TEXT NOT NULL,
  docs TEXT NOT NULL,
  attrs TEXT NOT NULL,
  content_hash BLOB NOT NULL,
  parent BLOB,
  valid_from INTEGER NOT NULL,
  valid_to INTEGER);
CREATE TABLE edges(
  rowid INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  src BLOB NOT NULL,
  dst BLOB NOT NULL,
  file_key INTEGER NOT NULL REFERENCES file_keys(id),
  line INTEGER NOT NULL,
  props TEXT NOT NULL,
  valid_from INTEGER NOT NULL,
  valid_to INTEGER);
-- Every edge, CONTAINS included (stored as nodes.parent); `ord` orders
-- containment first, then stored edges in insertion order.
CREATE VIEW all_edges AS
  SELECT 'CONTAINS' AS kind, parent AS src, id AS dst, file_key, 0 AS line, '' AS props,
         valid_from, valid_to, rowid AS ord
    FROM nodes WHERE parent IS NOT NULL
  UNION ALL
  SELECT kind, src, dst, file_key, line, props, valid_from, valid_to, rowid + 1099511627776 AS ord
    FROM edges;
)sql",
    // 2: search. Vectors keyed by (model, content hash); a lexical index over
    // node rows (rowid = nodes.rowid, filled up to meta 'lexical_rowid').
    R"sql(
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  model_id TEXT NOT NULL UNIQUE,
  dim INTEGER NOT NULL,
  spec TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE vectors(
  id INTEGER PRIMARY KEY,
  model INTEGER NOT NULL REFERENCES models(id),
  content_hash BLOB NOT NULL,
  vec BLOB NOT NULL,
  UNIQUE(model, content_hash));
CREATE INDEX files_key ON files(file_key) WHERE valid_to IS NULL;
CREATE VIRTUAL TABLE lexical USING fts5(
  name, path, signature, docs, idents, content='', tokenize='porter unicode61');
)sql",
    // 3: history. The rows a version opened or closed, for diffs and change
    // events (also in kSecondaryIndexes, so bulk loads rebuild them).
    R"sql(
CREATE INDEX IF NOT EXISTS nodes_from ON nodes(valid_from);
CREATE INDEX IF NOT EXISTS nodes_to ON nodes(valid_to) WHERE valid_to IS NOT NULL;
)sql",
    // 4: span overlays (store/span_overlay.h): per file version, where the
    // items and call sites an edit moved are, so that their rows stay.
    R"sql(
CREATE TABLE spans(
  rowid INTEGER PRIMARY KEY,
  file_key INTEGER NOT NULL REFERENCES file_keys(id),
  data BLOB NOT NULL,
  valid_from INTEGER NOT NULL,
  valid_to INTEGER);
CREATE INDEX spans_file ON spans(file_key, valid_from);
CREATE INDEX spans_from ON spans(valid_from);
CREATE INDEX spans_to ON spans(valid_to) WHERE valid_to IS NOT NULL;
)sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Secondary indexes of the graph tables. A write into an empty database (the
// first index of a workspace) drops them inside its transaction and builds
// them sorted at commit, which is several times faster than maintaining them
// row by row; a rollback restores them with everything else.
struct SecondaryIndex {
  const char* name;
  const char* definition;
};
constexpr SecondaryIndex kSecondaryIndexes[] = {
    {"nodes_id", "nodes(id, valid_from)"},
    {"nodes_parent", "nodes(parent)"},
    {"nodes_file", "nodes(file_key) WHERE valid_to IS NULL"},
    {"nodes_name", "nodes(name)"},
    {"nodes_content", "nodes(content_hash)"},
    {"edges_src", "edges(src, kind)"},
    {"edges_dst", "edges(dst, kind)"},
    {"edges_file", "edges(file_key) WHERE valid_to IS NULL"},
    {"nodes_from", "nodes(valid_from)"},
    {"nodes_to", "nodes(valid_to) WHERE valid_to IS NOT NULL"},
};

std::string CreateSecondaryIndexesSql() {
  std::string sql;
  for (const SecondaryIndex& i : kSecondaryIndexes)
    sql += std::string("CREATE INDEX IF NOT EXISTS ") + i.name + " ON " + i.definition + ";\n";
  return sql;
}

std::string DropSecondaryIndexesSql() {
  std::string sql;
  for (const SecondaryIndex& i : kSecondaryIndexes)
    sql += std::string("DROP INDEX IF EXISTS ") + i.name + ";\n";
  return sql;
}
static_assert(kMigrationCount == kSchemaVersion, "one migration per schema version");

constexpr std::string_view kNodeColumns =
    "id, kind, name, path, crate, (SELECT path FROM file_keys WHERE file_keys.id = file_key) AS "
    "file, start_byte, end_byte, start_line, end_line, visibility, "
    "signature, docs, attrs, content_hash, parent, file_key";

std::string AttrsJson(const Node& n) {
  if (n.cfgs.empty() && n.derives.empty() && n.attrs.empty() && n.in_macro.empty()) return "{}";
  nlohmann::json j = nlohmann::json::object();
  if (!n.cfgs.empty()) j["cfg"] = n.cfgs;
  if (!n.derives.empty()) j["derive"] = n.derives;
  if (!n.attrs.empty()) j["attrs"] = n.attrs;
  if (!n.in_macro.empty()) j["in_macro"] = n.in_macro;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void ParseAttrsJson(std::string_view text, Node* n) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  auto strings = [&](const char* key, std::vector<std::string>* out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return;
    for (const auto& v : *it)
      if (v.is_string()) out->push_back(v.get<std::string>());
  };
  strings("cfg", &n->cfgs);
  strings("derive", &n->derives);
  strings("attrs", &n->attrs);
  auto it = j.find("in_macro");
  if (it != j.end() && it->is_string()) n->in_macro = it->get<std::string>();
}

std::string LinelessEdgeKey(const Edge& e) {
  std::string k(KindName(e.kind));
  k.push_back('|');
  k.append(reinterpret_cast<const char*>(e.src.data()), NodeId::kSize);
  k.append(reinterpret_cast<const char*>(e.dst.data()), NodeId::kSize);
  k.push_back('|');
  k += e.props;
  return k;
}

// Reads the kNodeColumns of `st` starting at column `c`.
Node ReadNode(const Statement& st, int c) {
  Node n;
  n.id = st.Bytes<NodeId>(c + 0);
  n.kind = ParseNodeKind(st.TextView(c + 1)).value_or(NodeKind::kExternal);
  n.name = st.Text(c + 2);
  n.path = st.Text(c + 3);
  n.crate_name = st.Text(c + 4);
  n.file = st.Text(c + 5);
  n.span.start_byte = static_cast<uint32_t>(st.Int(c + 6));
  n.span.end_byte = static_cast<uint32_t>(st.Int(c + 7));
  n.span.start_line = static_cast<uint32_t>(st.Int(c + 8));
  n.span.end_line = static_cast<uint32_t>(st.Int(c + 9));
  n.visibility = ParseVisibility(st.TextView(c + 10)).value_or(Visibility::kPrivate);
  n.signature = st.Text(c + 11);
  n.docs = st.Text(c + 12);
  ParseAttrsJson(st.TextView(c + 13), &n);
  n.content_hash = st.Bytes<ContentHash>(c + 14);
  n.parent = st.Bytes<NodeId>(c + 15);
  return n;
}

namespace {

Edge ReadEdge(const Statement& st) {
  Edge e;
  e.kind = ParseEdgeKind(st.TextView(0)).value_or(EdgeKind::kContains);
  e.src = st.Bytes<NodeId>(1);
  e.dst = st.Bytes<NodeId>(2);
  e.file = st.Text(3);
  e.line = static_cast<uint32_t>(st.Int(4));
  e.props = st.Text(5);
  return e;
}

// Everything a node row holds but its span and content hash.
bool SameMetadata(const Node& a, const Node& b) {
  return a.kind == b.kind && a.name == b.name && a.path == b.path && a.file == b.file &&
         a.visibility == b.visibility && a.signature == b.signature && a.docs == b.docs &&
         a.cfgs == b.cfgs && a.derives == b.derives && a.attrs == b.attrs &&
         a.in_macro == b.in_macro && a.parent == b.parent;
}

Result<int64_t> QueryInt(Database& db, std::string_view sql) {
  FG_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return int64_t{0};
  return st.Int(0);
}

}  // namespace

Store::Store(std::unique_ptr<Database> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const Options& options) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (!exists && (options.read_only || !options.create_if_missing))
    return Status::NotFound(path + ": no ferrograph database here (run `ferrograph index` first)");
  if (exists && std::filesystem::is_directory(path, ec))
    return Status::InvalidArgument(path + ": is a directory, not a database file");
  if (!exists) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
      if (ec)
        return Status::IOError(parent.string() + ": cannot create directory: " + ec.message());
    }
  }
  FG_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path, options.read_only));
  std::unique_ptr<Store> store(new Store(std::move(db), path));
  FG_RETURN_IF_ERROR(store->Migrate(options.read_only));
  return store;
}

Status Store::Migrate(bool read_only) {
  Database& db = *db_;
  auto refuse = [&](const Status& s) {
    return Status::Corruption(path_ + ": not a ferrograph database, or it is damaged (" +
                              s.message() + "); move it away or pass another --db");
  };
  // The first read touches the file header: a damaged or foreign file fails here.
  Result<int64_t> app_id = QueryInt(db, "PRAGMA application_id");
  if (!app_id.ok()) return refuse(app_id.status());
  Result<int64_t> tables = QueryInt(db, "SELECT count(*) FROM sqlite_master");
  if (!tables.ok()) return refuse(tables.status());
  if (*app_id != kApplicationId && (*app_id != 0 || *tables != 0))
    return Status::Corruption(path_ + ": not a ferrograph database (application id " +
                              std::to_string(*app_id) + ")");

  int64_t version = 0;
  if (*app_id == kApplicationId) {
    Result<int64_t> v = QueryInt(db, "PRAGMA user_version");
    if (!v.ok()) return refuse(v.status());
    version = *v;
  }
  if (version > kSchemaVersion)
    return Status::Unsupported(path_ + ": database schema version " + std::to_string(version) +
                               " is newer than this ferrograph supports (" +
                               std::to_string(kSchemaVersion) + "); upgrade ferrograph");

  if (!read_only) {
    // WAL, unless another process is writing the database's first version
    // with a rollback journal (BeginWrite): SQLite then answers "locked" at
    // once, without waiting, and that writer sets WAL again when it
    // commits; this connection follows the file's mode by itself, and its
    // own write waits for the lock like any other.
    Status wal = db.Exec("PRAGMA journal_mode=WAL");
    if (!wal.ok() && wal.code() != StatusCode::kBusy) return wal;
    FG_RETURN_IF_ERROR(
        // A large page cache keeps a large first index from spilling pages
        // again and again. Temporary storage stays in files (SQLite's
        // default): with it in memory, SQLite's sorter never uses the
        // worker threads that `threads` allows (see WriteTxn::Commit).
        db.Exec("PRAGMA synchronous=NORMAL; PRAGMA cache_size=" + std::to_string(-kWriterCacheKiB) +
                "; PRAGMA temp_store=FILE; PRAGMA threads=2;"));
  }
  // A reader (a search engine, a server) walks indexes at random: a page
  // cache of up to 64 MiB keeps what it touched instead of SQLite's 2 MiB.
  // (Reading through a memory map instead lowered the median of cold
  // searches but raised their tail: bench/RESULTS.md.)
  if (read_only) FG_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size=-65536"));
  if (version == kSchemaVersion) {
    // Cheap integrity probe of the schema we rely on.
    Result<int64_t> probe = QueryInt(db, "SELECT count(*) FROM versions");
    if (!probe.ok()) return refuse(probe.status());
    return Status::OK();
  }
  // A reader may create the schema of an empty file (a first index killed
  // before its first commit): there is nothing in it to lose.
  const bool lift_query_only = read_only && version == 0 && *tables == 0;
  if (read_only && !lift_query_only)
    return Status::Unsupported(path_ + ": database needs a schema migration from version " +
                               std::to_string(version) + "; run `ferrograph index` once");
  if (lift_query_only) FG_RETURN_IF_ERROR(db.Exec("PRAGMA query_only=0"));

  FG_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    Status s = db.Exec(kMigrations[v]);
    if (!s.ok()) {
      db.Exec("ROLLBACK");
      return s.WithContext("migrating schema to version " + std::to_string(v + 1));
    }
  }
  Status s = db.Exec(CreateSecondaryIndexesSql());
  if (s.ok())
    s = db.Exec("PRAGMA application_id=" + std::to_string(kApplicationId) +
                "; PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";");
  if (s.ok()) s = db.Exec("COMMIT");
  if (!s.ok()) {
    db.Exec("ROLLBACK");
    return s.WithContext("migrating schema");
  }
  if (lift_query_only) FG_RETURN_IF_ERROR(db.Exec("PRAGMA query_only=1"));
  return Status::OK();
}

Result<bool> Store::SetJournalMode(const std::string& mode) {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("PRAGMA journal_mode=" + mode));
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && st.Text(0) == mode;
}

Result<std::vector<FileRecord>> Store::CurrentFiles() {
  FG_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT crate, path, module_path, like_mod_rs, "
                                   "module_disambiguator, hash, size, mods FROM files "
                                   "WHERE valid_to IS NULL ORDER BY crate, path"));
  std::vector<FileRecord> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    FileRecord f;
    f.crate_key = st.Text(0);
    f.path = st.Text(1);
    f.module_path = st.Text(2);
    f.like_mod_rs = st.Int(3) != 0;
    f.module_disambiguator = static_cast<uint32_t>(st.Int(4));
    f.hash = st.Bytes<ContentHash>(5);
    f.size = static_cast<uint64_t>(st.Int(6));
    f.mods_json = st.Text(7);
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

VersionInfo ReadVersion(const Statement& st) {
  VersionInfo v;
  v.ordinal = st.Int(0);
  v.uuid = Version::Parse(st.TextView(1)).value_or(Version());
  v.time_ms = static_cast<uint64_t>(st.Int(2));
  v.summary = st.Text(3);
  return v;
}

}  // namespace

Result<std::vector<VersionInfo>> Store::Versions() {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT ordinal, uuid, time_ms, summary FROM "
                                                 "versions ORDER BY ordinal"));
  std::vector<VersionInfo> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadVersion(st));
  }
  return out;
}

Result<std::optional<VersionInfo>> Store::LatestVersion() {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT ordinal, uuid, time_ms, summary FROM "
                                                 "versions ORDER BY ordinal DESC LIMIT 1"));
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<VersionInfo>();
  return std::optional<VersionInfo>(ReadVersion(st));
}

std::string Store::Live(std::string_view alias) const {
  std::string p = alias.empty() ? "" : std::string(alias) + ".";
  if (!read_version_) return p + "valid_to IS NULL";
  std::string v = std::to_string(*read_version_);
  return "(" + p + "valid_from <= " + v + " AND (" + p + "valid_to IS NULL OR " + p +
         "valid_to > " + v + "))";
}

Result<GraphStats> Store::Stats() {
  if (read_version_) return StatsAsOf(*read_version_);
  GraphStats s;
  FG_ASSIGN_OR_RETURN(s.versions, QueryInt(*db_, "SELECT count(*) FROM versions"));
  FG_ASSIGN_OR_RETURN(s.contents, QueryInt(*db_, "SELECT count(*) FROM contents"));
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT key, n FROM counts WHERE n != 0"));
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    std::string key = st.Text(0);
    int64_t n = st.Int(1);
    if (key.rfind("node:", 0) == 0) {
      s.nodes_by_kind[key.substr(5)] = n;
      s.nodes += n;
    } else if (key.rfind("edge:", 0) == 0) {
      s.edges_by_kind[key.substr(5)] = n;
      s.edges += n;
    } else if (key == "files") {
      s.files = n;
    }
  }
  auto it = s.nodes_by_kind.find("crate");
  s.crates = it == s.nodes_by_kind.end() ? 0 : it->second;
  FG_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, Versions());
  if (!versions.empty()) s.latest = versions.back();
  return s;
}

Result<std::optional<Node>> Store::GetNode(const NodeId& id) {
  FG_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare(std::string("SELECT ") + std::string(kNodeColumns) +
                                   " FROM nodes WHERE id = ?1 AND " + Live() + " LIMIT 1"));
  st.Bind(1, id);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<Node>();
  Node n = ReadNode(st);
  SpanFixer spans(*db_, overlays_, read_version_);
  FG_RETURN_IF_ERROR(spans.Fix(st.Int(kNodeFileKeyColumn), &n));
  return std::optional<Node>(std::move(n));
}

Result<std::vector<Node>> Store::FindNodes(const std::string& query, int limit) {
  // Paths are looked up through the name index: a node's name is the last
  // segment of its path. Impl paths ("m::impl fmt::Display for X") hold "::"
  // inside their last segment, so those fall back to scanning paths.
  std::string last = query;
  bool complex = query.find_first_of(" <") != std::string::npos;
  if (size_t p = query.rfind("::"); p != std::string::npos) last = query.substr(p + 2);
  std::vector<const char*> queries = {
      "name = ?3 AND path = ?1",
      "name = ?3 AND path LIKE '%::' || ?2 ESCAPE '\\'",
      "name = ?1",
  };
  if (complex) {
    queries.push_back("path = ?1");
    queries.push_back("path LIKE '%::' || ?2 ESCAPE '\\'");
  }
  std::string escaped;
  for (char c : query) {
    if (c == '%' || c == '_' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  for (const char* where : queries) {
    FG_ASSIGN_OR_RETURN(
        Statement st,
        db_->Prepare(std::string("SELECT ") + std::string(kNodeColumns) + " FROM nodes WHERE " +
                     Live() + " AND " + where + " ORDER BY path, kind LIMIT ?4"));
    st.Bind(1, query).Bind(2, escaped).Bind(3, last).Bind(4, static_cast<int64_t>(limit));
    std::vector<Node> out;
    SpanFixer spans(*db_, overlays_, read_version_);
    for (;;) {
      FG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ReadNode(st));
      FG_RETURN_IF_ERROR(spans.Fix(st.Int(kNodeFileKeyColumn), &out.back()));
    }
    if (!out.empty()) return out;
  }
  return std::vector<Node>();
}

namespace {
// all_edges columns ReadEdge reads, then the row's file_key and `ord`.
constexpr std::string_view kEdgeColumns =
    "kind, src, dst, (SELECT path FROM file_keys WHERE file_keys.id = file_key), line, props, "
    "file_key, ord";
constexpr int64_t kStoredEdgeOrd = int64_t{1} << 40;  // all_edges: ord of edges row r is r + this

// Reads an all_edges row of kEdgeColumns, its line as of the fixer's version.
Result<Edge> ReadEdgeAt(const Statement& st, SpanFixer& spans) {
  Edge e = ReadEdge(st);
  const int64_t ord = st.Int(7);
  if (ord >= kStoredEdgeOrd)
    FG_RETURN_IF_ERROR(spans.FixLine(st.Int(6), ord - kStoredEdgeOrd, &e.line));
  return e;
}

Result<std::vector<Edge>> EdgesWhere(Database& db, SpanFixer& spans, const char* column,
                                     const NodeId& id, std::optional<EdgeKind> kind,
                                     const std::string& live) {
  std::string sql = "SELECT " + std::string(kEdgeColumns) + " FROM all_edges WHERE " + column +
                    " = ?1 AND " + live;
  if (kind) sql += " AND kind = ?2";
  sql += " ORDER BY ord";
  FG_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  st.Bind(1, id);
  if (kind) st.Bind(2, KindName(*kind));
  std::vector<Edge> out;
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    FG_ASSIGN_OR_RETURN(Edge e, ReadEdgeAt(st, spans));
    out.push_back(std::move(e));
  }
  return out;
}
}  // namespace

Result<std::vector<Edge>> Store::EdgesFrom(const NodeId& id, std::optional<EdgeKind> kind) {
  SpanFixer spans(*db_, overlays_, read_version_);
  return EdgesWhere(*db_, spans, "src", id, kind, Live());
}
Result<std::vector<Edge>> Store::EdgesTo(const NodeId& id, std::optional<EdgeKind> kind) {
  SpanFixer spans(*db_, overlays_, read_version_);
  return EdgesWhere(*db_, spans, "dst", id, kind, Live());
}

Result<std::optional<std::string>> Store::NodeSource(const NodeId& id) {
  FG_ASSIGN_OR_RETURN(
      Statement st, db_->Prepare("SELECT n.start_byte, n.end_byte, c.text, n.file_key FROM nodes n "
                                 "JOIN files f ON f.file_key = n.file_key AND " +
                                 Live("f") +
                                 " JOIN contents c ON c.hash = f.hash "
                                 "WHERE n.id = ?1 AND " +
                                 Live("n") + " LIMIT 1"));
  st.Bind(1, id);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  int64_t begin = st.Int(0), end = st.Int(1);
  SpanFixer spans(*db_, overlays_, read_version_);
  FG_RETURN_IF_ERROR(spans.FixBytes(st.Int(3), id, &begin, &end));
  std::string_view text = st.TextView(2);
  if (begin < 0 || end < begin || static_cast<size_t>(end) > text.size())
    return Status::Corruption(path_ + ": node " + id.str() + " spans bytes " +
                              std::to_string(begin) + ".." + std::to_string(end) +
                              " outside its file's " + std::to_string(text.size()) + " bytes");
  return std::optional<std::string>(std::string(text.substr(begin, end - begin)));
}

Result<std::optional<std::string>> Store::ContentText(const ContentHash& hash) {
  FG_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT text FROM contents WHERE hash = ?1"));
  st.Bind(1, hash);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st.TextView(0)));
}

Status Store::SetAutoCheckpoint(bool on) {
  return db_->Exec(on ? "PRAGMA wal_autocheckpoint=1000" : "PRAGMA wal_autocheckpoint=0");
}

Status Store::ForEachNode(const std::function<Status(const Node&)>& fn) {
  FG_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare(std::string("SELECT ") + std::string(kNodeColumns) +
                                   " FROM nodes WHERE " + Live() +
                                   " ORDER BY crate, file, "
                                   "start_byte, path"));
  // A file's nodes at a time: moved ones take their places in it.
  SpanFixer spans(*db_, overlays_, read_version_);
  std::vector<Node> file_nodes;
  int64_t file_key = -1;
  std::string crate;
  auto flush = [&]() -> Status {
    std::stable_sort(file_nodes.begin(), file_nodes.end(), [](const Node& a, const Node& b) {
      return std::tie(a.span.start_byte, a.path) < std::tie(b.span.start_byte, b.path);
    });
    for (const Node& n : file_nodes) FG_RETURN_IF_ERROR(fn(n));
    file_nodes.clear();
    return Status::OK();
  };
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Node n = ReadNode(st);
    const int64_t key = st.Int(kNodeFileKeyColumn);
    if (key != file_key || n.crate_name != crate) {
      FG_RETURN_IF_ERROR(flush());
      file_key = key;
      crate = n.crate_name;
    }
    FG_RETURN_IF_ERROR(spans.Fix(key, &n));
    file_nodes.push_back(std::move(n));
  }
  return flush();
}

Status Store::ForEachEdge(const std::function<Status(const Edge&)>& fn) {
  FG_ASSIGN_OR_RETURN(
      Statement st, db_->Prepare("SELECT " + std::string(kEdgeColumns) + " FROM all_edges WHERE " +
                                 Live() + " ORDER BY ord"));
  SpanFixer spans(*db_, overlays_, read_version_);
  for (;;) {
    FG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    FG_ASSIGN_OR_RETURN(Edge e, ReadEdgeAt(st, spans));
    FG_RETURN_IF_ERROR(fn(e));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- writes

struct WriteTxn::Statements {
  Statement current_file;
  Statement close_file;
  Statement insert_file;
  Statement current_nodes;
  Statement close_node;
  Statement insert_node;
  Statement current_edges;
  Statement close_edge;
  Statement insert_edge;
  Statement insert_content;
  Statement find_file_key;
  Statement insert_file_key;
  Statement current_spans;
  Statement close_spans;
  Statement insert_spans;
};

void WriteTxn::CountNode(const Node& n, int sign) {
  count_delta_[static_cast<size_t>(n.kind)] += sign;
  if (!n.parent.IsZero())
    count_delta_[static_cast<size_t>(kNodeKindCount) + static_cast<size_t>(EdgeKind::kContains)] +=
        sign;
}

Status WriteTxn::FlushCounts() {
  FG_ASSIGN_OR_RETURN(
      Statement st,
      store_->db_->Prepare("INSERT INTO counts(key, n) VALUES(?1, ?2) ON CONFLICT(key) "
                           "DO UPDATE SET n = n + excluded.n"));
  for (size_t i = 0; i < count_delta_.size(); ++i) {
    if (count_delta_[i] == 0) continue;
    std::string key;
    if (i < static_cast<size_t>(kNodeKindCount))
      key = "node:" + std::string(KindName(static_cast<NodeKind>(i)));
    else if (i < kFilesCountSlot)
      key = "edge:" + std::string(KindName(static_cast<EdgeKind>(i - kNodeKindCount)));
    else
      key = "files";
    st.Bind(1, key).Bind(2, count_delta_[i]);
    FG_RETURN_IF_ERROR(st.Run());
  }
  return Status::OK();
}

Result<int64_t> WriteTxn::FileKey(const std::string& crate_key, const std::string& path) {
  Statements& st = *st_;
  st.find_file_key.Bind(1, crate_key).Bind(2, path);
  Result<bool> row = st.find_file_key.Step();
  int64_t id = row.ok() && *row ? st.find_file_key.Int(0) : 0;
  st.find_file_key.Reset();
  if (!row.ok()) return row.status();
  if (*row) return id;
  st.insert_file_key.Bind(1, crate_key).Bind(2, path);
  FG_RETURN_IF_ERROR(st.insert_file_key.Run());
  return store_->db_->LastInsertRowId();
}

Result<std::unique_ptr<WriteTxn>> Store::BeginWrite(bool keep_rows) {
  // A first index writes every page of the database: through a WAL each page
  // would be written twice (log, then checkpoint). With nothing to keep
  // readable, a rollback journal writes each page once and is just as
  // atomic. Switching needs no other connection; when one is open the write
  // simply stays in WAL mode.
  bool rollback_journal = false;
  Result<int64_t> was_empty = QueryInt(*db_, "SELECT NOT EXISTS(SELECT 1 FROM versions)");
  if (was_empty.ok() && *was_empty) {
    Result<bool> switched = SetJournalMode("delete");
    rollback_journal = switched.ok() && *switched;
  }
  Status begun = db_->Exec("BEGIN IMMEDIATE").WithContext("starting the write transaction");
  if (!begun.ok()) {
    // Best effort: the next writer's Open() sets WAL again in any case.
    if (rollback_journal) (void)SetJournalMode("wal");
    return begun;
  }
  Result<int64_t> last = QueryInt(*db_, "SELECT coalesce(max(ordinal), 0) FROM versions");
  if (!last.ok()) {
    db_->Exec("ROLLBACK");
    return last.status();
  }
  std::unique_ptr<WriteTxn> txn(new WriteTxn(this, *last + 1));
  txn->restore_wal_ = rollback_journal;
  txn->keep_rows_ = keep_rows;
  // Rows kept from this Store's last write hold only while nothing else
  // committed since.
  kept_rows_->CheckVersion(*last);
  Result<int64_t> empty =
      QueryInt(*db_, "SELECT NOT EXISTS(SELECT 1 FROM nodes) AND NOT EXISTS(SELECT 1 FROM edges)");
  if (!empty.ok()) return empty.status();  // the destructor rolls back
  if (*empty) {
    txn->bulk_ = true;
    FG_RETURN_IF_ERROR(db_->Exec(DropSecondaryIndexesSql()));
  }
  Status s = txn->Prepare();
  if (!s.ok()) return s;  // the destructor rolls back
  return txn;
}

WriteTxn::WriteTxn(Store* store, int64_t ordinal) : store_(store), ordinal_(ordinal) {}

WriteTxn::~WriteTxn() {
  if (!done_) store_->db_->Exec("ROLLBACK");
  // Best effort: the next writer's Open() sets WAL again in any case.
  if (restore_wal_) (void)store_->SetJournalMode("wal");
}

Status WriteTxn::Prepare() {
  Database& db = *store_->db_;
  st_ = std::make_unique<Statements>();
  FG_ASSIGN_OR_RETURN(st_->current_file,
                      db.Prepare("SELECT rowid, hash, module_path, like_mod_rs, "
                                 "module_disambiguator, size, mods FROM files WHERE crate = ?1 AND "
                                 "path = ?2 AND valid_to IS NULL"));
  FG_ASSIGN_OR_RETURN(st_->close_file,
                      db.Prepare("UPDATE files SET valid_to = ?1 WHERE rowid = ?2"));
  FG_ASSIGN_OR_RETURN(st_->insert_file,
                      db.Prepare("INSERT INTO files(crate, path, module_path, like_mod_rs, "
                                 "module_disambiguator, hash, size, mods, file_key, valid_from) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  FG_ASSIGN_OR_RETURN(st_->current_nodes,
                      db.Prepare(std::string("SELECT rowid, ") + std::string(kNodeColumns) +
                                 " FROM nodes WHERE file_key = ?1 AND valid_to IS NULL"));
  FG_ASSIGN_OR_RETURN(st_->close_node,
                      db.Prepare("UPDATE nodes SET valid_to = ?1 WHERE rowid = ?2"));
  FG_ASSIGN_OR_RETURN(
      st_->insert_node,
      db.Prepare("INSERT INTO nodes(id, kind, name, path, crate, file_key, start_byte, end_byte, "
                 "start_line, end_line, visibility, signature, docs, attrs, content_hash, "
                 "parent, valid_from) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                 "?13, ?14, ?15, ?16, ?17)"));
  FG_ASSIGN_OR_RETURN(st_->current_edges,
                      db.Prepare("SELECT rowid, kind, src, dst, file_key, line, props FROM edges "
                                 "WHERE file_key = ?1 AND valid_to IS NULL"));
  FG_ASSIGN_OR_RETURN(st_->close_edge,
                      db.Prepare("UPDATE edges SET valid_to = ?1 WHERE rowid = ?2"));
  FG_ASSIGN_OR_RETURN(st_->insert_edge,
                      db.Prepare("INSERT INTO edges(kind, src, dst, file_key, line, props, "
                                 "valid_from) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  FG_ASSIGN_OR_RETURN(st_->find_file_key,
                      db.Prepare("SELECT id FROM file_keys WHERE crate = ?1 AND path = ?2"));
  FG_ASSIGN_OR_RETURN(st_->insert_file_key,
                      db.Prepare("INSERT INTO file_keys(crate, path) VALUES(?1, ?2)"));
  FG_ASSIGN_OR_RETURN(st_->insert_content,
                      db.Prepare("INSERT OR IGNORE INTO contents(hash, text) VALUES(?1, ?2)"));
  FG_ASSIGN_OR_RETURN(st_->current_spans,
                      db.Prepare("SELECT rowid, data FROM spans WHERE file_key = ?1 AND valid_to "
                                 "IS NULL"));
  FG_ASSIGN_OR_RETURN(st_->close_spans,
                      db.Prepare("UPDATE spans SET valid_to = ?1 WHERE rowid = ?2"));
  FG_ASSIGN_OR_RETURN(
      st_->insert_spans,
      db.Prepare("INSERT INTO spans(file_key, data, valid_from) VALUES(?1, ?2, ?3)"));
  return Status::OK();
}

Status WriteTxn::ApplyFile(const FileUpdate& update) {
  FG_RETURN_IF_ERROR(BeginFileRows(update, /*edges_known=*/true));
  return FinishFile(update);
}

Status WriteTxn::BeginFile(const FileUpdate& update) {
  return BeginFileRows(update, /*edges_known=*/false);
}

Status WriteTxn::BeginFileRows(const FileUpdate& update, bool edges_known) {
  if (done_) return Status::Internal("write transaction already finished");
  if (open_)
    return Status::Internal("BeginFile: " + update.file.path + " while another file is open");
  const FileRecord& f = update.file;
  Statements& st = *st_;
  FG_ASSIGN_OR_RETURN(int64_t file_key, FileKey(f.crate_key, f.path));

  st.current_file.Bind(1, f.crate_key).Bind(2, f.path);
  Result<bool> row = st.current_file.Step();
  if (!row.ok()) {
    st.current_file.Reset();
    return row.status();
  }
  bool same_file = false;
  if (*row) {
    int64_t rowid = st.current_file.Int(0);
    same_file = st.current_file.Bytes<ContentHash>(1) == f.hash &&
                st.current_file.TextView(2) == f.module_path &&
                (st.current_file.Int(3) != 0) == f.like_mod_rs &&
                static_cast<uint32_t>(st.current_file.Int(4)) == f.module_disambiguator &&
                static_cast<uint64_t>(st.current_file.Int(5)) == f.size &&
                st.current_file.TextView(6) == f.mods_json;
    st.current_file.Reset();
    if (!same_file) {
      st.close_file.Bind(1, ordinal_).Bind(2, rowid);
      FG_RETURN_IF_ERROR(st.close_file.Run());
      ++stats_.rows_written;
      ++stats_.files_changed;
    }
  } else {
    st.current_file.Reset();
    ++stats_.files_added;
    if (f.crate_key != kUnreachedFilesCrate && f.path != kExternalNodesFile)
      count_delta_[kFilesCountSlot] += 1;
  }
  if (!same_file) {
    st.insert_file.Bind(1, f.crate_key)
        .Bind(2, f.path)
        .Bind(3, f.module_path)
        .Bind(4, int64_t{f.like_mod_rs})
        .Bind(5, int64_t{f.module_disambiguator})
        .Bind(6, f.hash)
        .Bind(7, static_cast<int64_t>(f.size))
        .Bind(8, f.mods_json)
        .Bind(9, file_key)
        .Bind(10, ordinal_);
    FG_RETURN_IF_ERROR(st.insert_file.Run());
    ++stats_.rows_written;
    st.insert_content.BindView(1, f.hash).BindView(2, update.text);
    FG_RETURN_IF_ERROR(st.insert_content.Run());
  }
  return BeginRows(update, file_key, edges_known);
}

namespace {

// Steps `st` through its rows, calling `each` on every one; leaves it reset
// whatever happens.
template <typename Each>
Status EachRow(Statement& st, Each&& each) {
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) {
      st.Reset();
      return row.status();
    }
    if (!*row) break;
    each(static_cast<const Statement&>(st));
  }
  st.Reset();
  return Status::OK();
}

}  // namespace

Status WriteTxn::LoadRows(int64_t file_key, const std::string& path, FileRows* rows) {
  Statements& st = *st_;
  st.current_spans.Bind(1, file_key);
  Result<bool> spans = st.current_spans.Step();
  if (!spans.ok()) {
    st.current_spans.Reset();
    return spans.status();
  }
  if (*spans) {
    rows->spans_rowid = st.current_spans.Int(0);
    Result<SpanOverlay> o = SpanOverlay::Decode(st.current_spans.BlobView(1));
    st.current_spans.Reset();
    if (!o.ok())
      return Status::Corruption(store_->path_ + ": spans row " +
                                std::to_string(*rows->spans_rowid) + " of " + path + ": " +
                                o.status().message());
    rows->overlay = std::move(*o);
  } else {
    st.current_spans.Reset();
  }

  st.current_nodes.Bind(1, file_key);
  FG_RETURN_IF_ERROR(EachRow(st.current_nodes, [&](const Statement& row) {
    Node n = ReadNode(row, 1);
    NodeId id = n.id;
    rows->nodes.emplace(id, FileRows::NodeRow{row.Int(0), std::move(n)});
  }));

  st.current_edges.Bind(1, file_key);
  return EachRow(st.current_edges, [&](const Statement& row) {
    Edge e;
    e.kind = ParseEdgeKind(row.TextView(1)).value_or(EdgeKind::kContains);
    e.src = row.Bytes<NodeId>(2);
    e.dst = row.Bytes<NodeId>(3);
    e.props = row.Text(6);
    FileRows::EdgeRow r;
    r.rowid = row.Int(0);
    r.kind = ParseEdgeKind(row.TextView(1));
    r.row_line = static_cast<uint32_t>(row.Int(5));
    rows->edges[LinelessEdgeKey(e)].push_back(r);
  });
}

Status WriteTxn::BeginRows(const FileUpdate& update, int64_t file_key, bool edges_known) {
  // What the rows are now: kept from this Store's last write of the file,
  // else read back (a bulk load has no current rows).
  std::unique_ptr<FileRows> rows = store_->kept_rows_->Take(file_key);
  if (!rows) {
    rows = std::make_unique<FileRows>();
    if (!bulk_) FG_RETURN_IF_ERROR(LoadRows(file_key, update.file.path, rows.get()));
  }
  // Kept after the write: the rows of large files, within the budget. The
  // edges may not be known yet (BeginFile): as many as the file has now.
  size_t edges = update.edges.size();
  if (!edges_known)
    for (const auto& [key, list] : rows->edges) edges += list.size();
  const size_t size = update.nodes.size() + edges;
  keep_current_ = keep_rows_ && size >= KeptFileRows::kMinRows &&
                  written_rows_count_ + size <= store_->kept_rows_->budget();
  open_.emplace();
  open_->file_key = file_key;
  open_->rows = std::move(rows);
  Status s = ApplyNodes(update, file_key, *open_->rows, &open_->next);
  if (!s.ok()) open_.reset();
  return s;
}

Status WriteTxn::FinishFile(const FileUpdate& update) {
  if (!open_) return Status::Internal("FinishFile: " + update.file.path + " was not begun");
  OpenFile open = std::move(*open_);
  open_.reset();
  Statements& st = *st_;
  const int64_t file_key = open.file_key;
  std::unique_ptr<FileRows> rows = std::move(open.rows);
  SpanOverlay& next = open.next;
  const size_t size = update.nodes.size() + update.edges.size();
  FG_RETURN_IF_ERROR(ApplyEdges(update, file_key, *rows, &next));
  next.Seal();
  if (!(next == rows->overlay)) {
    if (rows->spans_rowid) {
      st.close_spans.Bind(1, ordinal_).Bind(2, *rows->spans_rowid);
      FG_RETURN_IF_ERROR(st.close_spans.Run());
      ++stats_.rows_written;
      rows->spans_rowid.reset();
    }
    if (!next.empty()) {
      const std::string data = next.Encode();
      st.insert_spans.Bind(1, file_key).BindBlob(2, data.data(), data.size()).Bind(3, ordinal_);
      FG_RETURN_IF_ERROR(st.insert_spans.Run());
      ++stats_.rows_written;
      rows->spans_rowid = store_->db_->LastInsertRowId();
    }
    rows->overlay = std::move(next);
  }
  if (keep_current_) {
    written_rows_count_ += size;
    written_rows_.emplace_back(file_key, std::move(rows));
  }
  return Status::OK();
}

Status WriteTxn::ApplyNodes(const FileUpdate& update, int64_t file_key, FileRows& rows,
                            SpanOverlay* next) {
  Statements& st = *st_;
  const SpanOverlay& old = rows.overlay;
  auto& current = rows.nodes;
  for (auto& [id, cur] : current) cur.kept = false;

  auto close = [&](int64_t rowid) {
    ++stats_.rows_written;
    st.close_node.Bind(1, ordinal_).Bind(2, rowid);
    return st.close_node.Run();
  };
  for (const Node& n : update.nodes) {
    auto it = current.find(n.id);
    if (it != current.end()) {
      if (it->second.kept) continue;  // duplicate id in the update: first wins
      it->second.kept = true;
      const Node& row = it->second.node;
      if (row.content_hash == n.content_hash && SameMetadata(row, n)) {
        // The row stays; where the item is now goes into the overlay.
        auto was = old.nodes.find(n.id);
        const Span& before = was == old.nodes.end() ? row.span : was->second;
        if (before != n.span) ++stats_.nodes_moved;
        if (row.span != n.span) next->nodes.emplace(n.id, n.span);
        continue;
      }
      FG_RETURN_IF_ERROR(close(it->second.rowid));
      CountNode(row, -1);
      if (row.content_hash != n.content_hash)
        ++stats_.nodes_changed;
      else
        ++stats_.nodes_moved;
    } else {
      ++stats_.nodes_added;
      it = current.emplace(n.id, FileRows::NodeRow{}).first;
      it->second.kept = true;
    }
    // The node outlives the statement's run: its fields are bound as they are.
    st.insert_node.BindView(1, n.id)
        .BindView(2, KindName(n.kind))
        .BindView(3, n.name)
        .BindView(4, n.path)
        .BindView(5, n.crate_name)
        .Bind(6, file_key)
        .Bind(7, int64_t{n.span.start_byte})
        .Bind(8, int64_t{n.span.end_byte})
        .Bind(9, int64_t{n.span.start_line})
        .Bind(10, int64_t{n.span.end_line})
        .BindView(11, VisibilityName(n.visibility))
        .BindView(12, n.signature)
        .BindView(13, n.docs)
        .Bind(14, AttrsJson(n))
        .BindView(15, n.content_hash);
    if (n.parent.IsZero())
      st.insert_node.BindNull(16);
    else
      st.insert_node.BindView(16, n.parent);
    st.insert_node.Bind(17, ordinal_);
    FG_RETURN_IF_ERROR(st.insert_node.Run());
    ++stats_.rows_written;
    CountNode(n, +1);
    // The row as written, for the next write of the file (when kept).
    if (keep_current_) {
      it->second.rowid = store_->db_->LastInsertRowId();
      it->second.node = n;
    }
  }
  for (auto it = current.begin(); it != current.end();) {
    if (it->second.kept) {
      ++it;
      continue;
    }
    FG_RETURN_IF_ERROR(close(it->second.rowid));
    CountNode(it->second.node, -1);
    ++stats_.nodes_removed;
    it = current.erase(it);
  }
  return Status::OK();
}

Status WriteTxn::ApplyEdges(const FileUpdate& update, int64_t file_key, FileRows& rows,
                            SpanOverlay* next) {
  Statements& st = *st_;
  const SpanOverlay& old = rows.overlay;
  // The current rows by their key without the line, each with its line now
  // (the overlay's, else the row's).
  auto& current = rows.edges;
  for (auto& [key, list] : current)
    for (FileRows::EdgeRow& r : list) {
      r.kept = false;
      auto moved = old.edge_lines.find(r.rowid);
      r.line = moved == old.edge_lines.end() ? r.row_line : moved->second;
    }
  const bool had_rows = !current.empty();

  // Rows inserted by this write, added to `current` after the diff.
  std::vector<std::pair<std::string, FileRows::EdgeRow>> inserted;
  auto insert = [&](const Edge& e, std::string key) -> Status {
    st.insert_edge.BindView(1, KindName(e.kind))
        .BindView(2, e.src)
        .BindView(3, e.dst)
        .Bind(4, file_key)
        .Bind(5, int64_t{e.line})
        .BindView(6, e.props)
        .Bind(7, ordinal_);
    FG_RETURN_IF_ERROR(st.insert_edge.Run());
    ++stats_.rows_written;
    ++stats_.edges_added;
    count_delta_[static_cast<size_t>(kNodeKindCount) + static_cast<size_t>(e.kind)] += 1;
    if (keep_current_) {
      FileRows::EdgeRow r;
      r.rowid = store_->db_->LastInsertRowId();
      r.kind = e.kind;
      r.row_line = e.line;
      r.kept = true;
      inserted.emplace_back(key.empty() ? LinelessEdgeKey(e) : std::move(key), r);
    }
    return Status::OK();
  };
  // A row kept for a site now at `line`: in the overlay unless it is where
  // the row says.
  auto keep = [&](FileRows::EdgeRow& r, uint32_t line) {
    r.kept = true;
    if (line != r.row_line) next->edge_lines.emplace(r.rowid, line);
  };

  // Sites still where they were keep their rows; of the others, those of
  // the same edge (kind, ends, props) pair up in line order with the rows
  // left of it: the site moved (a call below an edit that added lines),
  // its row stays and the overlay says where it is. What is left is added
  // or removed.
  struct Unmatched {
    const Edge* first;            // the first such edge of the update
    std::vector<uint32_t> lines;  // where its unmatched sites are
  };
  std::unordered_map<std::string, Unmatched> unmatched;  // by lineless key
  std::vector<const std::string*> unmatched_order;       // keys in update order
  for (const Edge& e : update.edges) {
    if (e.kind == EdgeKind::kContains) continue;  // carried by Node::parent
    if (!had_rows) {                              // bulk mode or a new file: nothing to match
      FG_RETURN_IF_ERROR(insert(e, std::string()));
      continue;
    }
    std::string key = LinelessEdgeKey(e);
    auto it = current.find(key);
    bool matched = false;
    if (it != current.end()) {
      for (FileRows::EdgeRow& r : it->second)
        if (!r.kept && r.line == e.line) {
          keep(r, e.line);
          matched = true;
          break;
        }
    }
    if (matched) continue;
    auto [u, added] = unmatched.try_emplace(std::move(key), Unmatched{&e, {}});
    if (added) unmatched_order.push_back(&u->first);
    u->second.lines.push_back(e.line);
  }
  for (const std::string* key : unmatched_order) {
    Unmatched& u = unmatched.at(*key);
    std::sort(u.lines.begin(), u.lines.end());
    std::vector<FileRows::EdgeRow*> free_rows;
    if (auto it = current.find(*key); it != current.end())
      for (FileRows::EdgeRow& r : it->second)
        if (!r.kept) free_rows.push_back(&r);
    std::sort(free_rows.begin(), free_rows.end(),
              [](const FileRows::EdgeRow* a, const FileRows::EdgeRow* b) {
                return std::tie(a->line, a->rowid) < std::tie(b->line, b->rowid);
              });
    size_t paired = std::min(free_rows.size(), u.lines.size());
    for (size_t i = 0; i < paired; ++i) {
      keep(*free_rows[i], u.lines[i]);
      ++stats_.edges_moved;
    }
    for (size_t i = paired; i < u.lines.size(); ++i) {
      Edge added = *u.first;
      added.line = u.lines[i];
      FG_RETURN_IF_ERROR(insert(added, *key));
    }
  }
  for (auto it = current.begin(); it != current.end();) {
    std::vector<FileRows::EdgeRow>& list = it->second;
    for (const FileRows::EdgeRow& r : list) {
      if (r.kept) continue;
      st.close_edge.Bind(1, ordinal_).Bind(2, r.rowid);
      FG_RETURN_IF_ERROR(st.close_edge.Run());
      ++stats_.rows_written;
      ++stats_.edges_removed;
      if (r.kind)
        count_delta_[static_cast<size_t>(kNodeKindCount) + static_cast<size_t>(*r.kind)] -= 1;
    }
    std::erase_if(list, [](const FileRows::EdgeRow& r) { return !r.kept; });
    it = list.empty() ? current.erase(it) : std::next(it);
  }
  for (auto& [key, r] : inserted) current[std::move(key)].push_back(r);
  return Status::OK();
}

Status WriteTxn::RemoveFile(const std::string& crate_key, const std::string& path) {
  if (open_) return Status::Internal("RemoveFile: " + path + " while another file is open");
  FileUpdate empty;
  empty.file.crate_key = crate_key;
  empty.file.path = path;
  FG_ASSIGN_OR_RETURN(int64_t file_key, FileKey(crate_key, path));
  FG_RETURN_IF_ERROR(BeginRows(empty, file_key, /*edges_known=*/true));
  FG_RETURN_IF_ERROR(FinishFile(empty));
  Statements& st = *st_;
  st.current_file.Bind(1, crate_key).Bind(2, path);
  FG_ASSIGN_OR_RETURN(bool row, st.current_file.Step());
  int64_t rowid = row ? st.current_file.Int(0) : 0;
  st.current_file.Reset();
  if (row) {
    st.close_file.Bind(1, ordinal_).Bind(2, rowid);
    FG_RETURN_IF_ERROR(st.close_file.Run());
    ++stats_.files_removed;
    if (crate_key != kUnreachedFilesCrate && path != kExternalNodesFile)
      count_delta_[kFilesCountSlot] -= 1;
  }
  return Status::OK();
}

Result<std::optional<VersionInfo>> WriteTxn::Commit(const std::string& summary_json) {
  if (done_) return Status::Internal("write transaction already finished");
  if (open_)
    return Status::Internal("committing with " + std::to_string(open_->file_key) +
                            " begun and not finished");
  Database& db = *store_->db_;
  if (stats_.empty()) {
    done_ = true;
    FG_RETURN_IF_ERROR(db.Exec("ROLLBACK"));
    // Nothing was written: the rows are as they were at the last version.
    store_->kept_rows_->Commit(ordinal_ - 1, std::move(written_rows_));
    return std::optional<VersionInfo>();
  }
  if (bulk_) {
    // SQLite's sorter keeps a run in memory up to the page cache's size and
    // sorts it on the calling thread; with a small cache it cuts the rows
    // into runs that worker threads sort while this one reads on, and
    // merges them on both. The indexes of the corpus of bench/ build in
    // 1.65 s instead of 2.2 s that way (bench/RESULTS.md). Dirty pages past
    // the small cache go to the database file early, as they would at
    // COMMIT.
    //
    // Each CREATE INDEX scans its whole table, which no longer fits the
    // small cache: reading the pages through a memory map instead of a
    // read() each saves a fifth of the time. Only for this: readers keep
    // reading (bench/RESULTS.md), and the map ends with the build.
    FG_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size=" + std::to_string(-kIndexBuildCacheKiB) +
                               "; PRAGMA mmap_size=" + std::to_string(kIndexBuildMmapBytes)));
    Status built = db.Exec(CreateSecondaryIndexesSql()).WithContext("building indexes");
    Status restored =
        db.Exec("PRAGMA mmap_size=0; PRAGMA cache_size=" + std::to_string(-kWriterCacheKiB));
    FG_RETURN_IF_ERROR(built);
    FG_RETURN_IF_ERROR(restored);
  }
  FG_RETURN_IF_ERROR(FlushCounts().WithContext("updating counts"));
  VersionInfo v;
  v.ordinal = ordinal_;
  v.uuid = VersionGenerator::Default().Next();
  v.time_ms = v.uuid.unix_millis();
  v.summary = summary_json.empty() ? "{}" : summary_json;
  FG_ASSIGN_OR_RETURN(Statement st, db.Prepare("INSERT INTO versions(ordinal, uuid, time_ms, "
                                               "summary) VALUES(?1, ?2, ?3, ?4)"));
  st.Bind(1, v.ordinal)
      .Bind(2, v.uuid.str())
      .Bind(3, static_cast<int64_t>(v.time_ms))
      .Bind(4, v.summary);
  FG_RETURN_IF_ERROR(st.Run());
  st_.reset();  // finalize statements before COMMIT
  FG_RETURN_IF_ERROR(db.Exec("COMMIT").WithContext("committing version " + v.uuid.str()));
  done_ = true;
  store_->kept_rows_->Commit(v.ordinal, std::move(written_rows_));
  if (restore_wal_) {
    restore_wal_ = false;
    FG_ASSIGN_OR_RETURN(bool wal, store_->SetJournalMode("wal"));
    if (!wal) return Status::IOError(store_->path() + ": could not return to WAL journal mode");
  }
  return std::optional<VersionInfo>(v);
}

}  // namespace ferrograph
