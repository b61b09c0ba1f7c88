// Store: the SQLite database that holds the versioned code graph. It is the
// source of truth; every sidecar can be rebuilt from it.
//
// Layout (schema version 3, see store.cc for the DDL):
//   versions  one row per committed ingest: ordinal, UUIDv7, time, summary
//   files     per (crate, file): BLAKE3 of the bytes, module context, the
//             file's `mod` declarations; versioned like nodes
//   nodes     one row per node state, valid over versions [valid_from, valid_to)
//   edges     likewise, each owned by the file whose content produced it;
//             CONTAINS is not stored as edge rows but as each node's parent
//   contents  file bytes, stored once per file hash; a node's source text
//             is its span of its file's bytes
//   models    embedding models seen: model id (with digest), dimension, spec
//   vectors   one vector per (model, content hash): identical code is
//             embedded once per model, and models never share rows
//   lexical   FTS5 (contentless, porter stemming) over node rows: name,
//             path, signature, docs, split identifiers; rowid = nodes.rowid,
//             so an as-of search joins the node rows valid then
// The current graph is the rows with valid_to IS NULL.
//
// Concurrency: one writer (WriteTxn, BEGIN IMMEDIATE) at a time; readers open
// their own Store and see the last committed version (WAL). A Store object is
// used by one thread at a time.
//
// Durability: a write transaction commits all of one ingest or nothing; a
// process killed at any moment leaves the last committed version intact.
//
// Errors: a file that is not a ferrograph database (or is damaged) is refused
// with Corruption; one written by a newer ferrograph with Unsupported.
#ifndef FERROGRAPH_STORE_STORE_H_
#define FERROGRAPH_STORE_STORE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/history.h"
#include "ferrograph/ids.h"
#include "ferrograph/stats.h"
#include "ferrograph/status.h"
#include "store/file_rows.h"
#include "store/span_overlay.h"

namespace ferrograph {

class Database;
class LexicalRanker;
struct LexicalLengths;

inline constexpr int kSchemaVersion = 4;

// The files-table crate key of files that were read in a crate's directories
// but that no module tree reaches: remembered by hash so that they are not
// parsed again, never counted as indexed files, and owning no nodes.
inline constexpr const char* kUnreachedFilesCrate = "#unreached";

// The files-table path of a crate's pseudo file that owns its external nodes
// (std::fmt::Display, serde::Serialize): rewritten whenever the crate is
// resolved again; not counted as an indexed file.
inline constexpr const char* kExternalNodesFile = "#external";

struct FileRecord {
  std::string crate_key;     // the crate the file was indexed for
  std::string path;          // relative to the indexed root
  std::string module_path;   // canonical path of the module the file implements
  bool like_mod_rs = false;  // the file resolves child modules like mod.rs
  uint32_t module_disambiguator = 0;
  ContentHash hash;  // BLAKE3 of the file's bytes
  uint64_t size = 0;
  std::string mods_json;  // the file's `mod x;` declarations, JSON array
};

// The complete new state of one (crate, file): what ApplyFile diffs against
// the current rows.
struct FileUpdate {
  FileRecord file;
  std::vector<Node> nodes;  // CONTAINS is each node's `parent`
  std::vector<Edge> edges;  // every other kind; CONTAINS edges here are ignored
  // The file's bytes, stored once per file hash; a node's source text is the
  // slice of its span.
  std::string text;
};

class WriteTxn;

// The node kinds that search indexes (lexically and by vector): items a
// user looks for, not uses, generic params, external paths or crates.
bool IsSearchableKind(NodeKind kind);

// Which node rows a search may return.
struct NodeFilter {
  std::vector<NodeKind> kinds;  // empty: every searchable kind
  std::string crate_name;       // "": any crate
  std::string path_prefix;      // "": any; "a::b" admits a::b and a::b::*
  // When set: only these nodes.
  const std::vector<NodeId>* nodes = nullptr;
  // Version ordinal to answer as of; nullopt: the current graph.
  std::optional<int64_t> as_of;
};

struct ScoredNode {
  Node node;
  double score = 0;  // lexical: -bm25 (higher is better); vector: similarity
  uint64_t vector_id = 0;
};

struct ModelRecord {
  int64_t key = 0;  // models.id
  std::string model_id;
  int dim = 0;
  std::string spec;
};

// A content hash that has no vector yet for some model, with the text to
// embed: the item's docs, then its source (cut at a UTF-8 boundary).
struct EmbedJob {
  ContentHash content_hash;
  std::string text;
};

struct VectorSetState {
  int64_t count = 0;
  int64_t max_id = 0;  // vector ids only grow: a stamp of the set with count
};

struct GcReport {
  int64_t vectors_removed = 0;
  int64_t models_removed = 0;
};

class Store {
 public:
  struct Options {
    bool read_only = false;
    // Create the database (and its schema) when the file does not exist.
    bool create_if_missing = true;
  };

  // Opens or creates the database at `path`, migrating an older schema
  // forward in one transaction.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const Options& options);
  ~Store();

  const std::string& path() const { return path_; }

  // Pins the reads below (and search filters without an as_of of their
  // own) to version `ordinal`: the rows valid then. nullopt: the current
  // graph. Writes are not affected.
  void SetReadVersion(std::optional<int64_t> ordinal) { read_version_ = ordinal; }
  std::optional<int64_t> read_version() const { return read_version_; }

  // ---- reads (current graph) ----
  Result<std::vector<FileRecord>> CurrentFiles();
  Result<std::vector<VersionInfo>> Versions();
  // The newest version (nullopt in an empty database): one row, however
  // long the history.
  Result<std::optional<VersionInfo>> LatestVersion();
  Result<GraphStats> Stats();
  Result<std::optional<Node>> GetNode(const NodeId& id);
  // Nodes whose canonical path equals `query`; else whose path ends with
  // "::query"; else whose name equals `query`. At most `limit`.
  Result<std::vector<Node>> FindNodes(const std::string& query, int limit);
  Result<std::vector<Edge>> EdgesFrom(const NodeId& id, std::optional<EdgeKind> kind);
  Result<std::vector<Edge>> EdgesTo(const NodeId& id, std::optional<EdgeKind> kind);
  // The current source text of node `id`: its span of its file's bytes.
  Result<std::optional<std::string>> NodeSource(const NodeId& id);
  // The stored bytes of a file whose BLAKE3 is `hash` (kept once per
  // content hash while a kept version's file has them); nullopt if none.
  Result<std::optional<std::string>> ContentText(const ContentHash& hash);
  // Visits every current node / edge in a stable order; stops at the first
  // error a callback returns.
  Status ForEachNode(const std::function<Status(const Node&)>& fn);
  Status ForEachEdge(const std::function<Status(const Edge&)>& fn);

  // ---- history (history.cc): across versions, whatever the read version ----
  // Every stored state of the nodes whose canonical path is `query` (else
  // whose path ends with "::query", else whose id is the hex `query`), in
  // any version still kept, oldest first per node; at most `limit` rows.
  Result<std::vector<NodeRevision>> NodeRevisions(const std::string& query, int limit);
  // The source text of node `id` in its state that became valid at version
  // `valid_from`.
  Result<std::optional<std::string>> RevisionSource(const NodeId& id, int64_t valid_from);
  // What changed from version `from` to version `to` (from < to, or the
  // reverse change when from > to); edges too when `with_edges`.
  Result<GraphDiff> Diff(int64_t from, int64_t to, bool with_edges);
  // Drops the versions before `keep_from` and every row (node, edge, file)
  // no version from `keep_from` on can see, and the file texts no kept file
  // row has; the answers as of `keep_from` and later are unchanged. The
  // lexical index is emptied: CatchUpLexical fills it again from the kept
  // rows. One transaction.
  Result<HistoryGcReport> DropVersionsBefore(int64_t keep_from);

  // ---- search tables (search_tables.cc) ----
  // Adds the node rows written since the last call to the lexical index, in
  // one transaction; `split_identifiers` turns a name and signature into the
  // space-separated sub-tokens of their identifiers. Returns rows added.
  Result<int64_t> CatchUpLexical(
      const std::function<std::string(std::string_view name, std::string_view signature)>&
          split_identifiers);
  // BM25 over the lexical index: the rows holding any of `words` (each an
  // FTS5 phrase), scored as FTS5's bm25() scores them with the column
  // weights of lexical_rank.h. Best first (ties by path), at most `limit`;
  // exact, though rows that provably cannot reach the top are never scored
  // (MaxScore, see lexical_rank.h). The first round scores the rows of the
  // rarest words that hold about `essential_rows` rows between them (at
  // least one word); each further round adds words until the bound holds.
  Result<std::vector<ScoredNode>> LexicalSearch(const std::vector<std::string>& words,
                                                const NodeFilter& filter, int limit,
                                                int64_t essential_rows = 4096);
  // Reads the token counts of every lexical row now, in one scan, rather
  // than as searches come to them (LexicalSearch does this by itself once
  // reading them one by one has cost about as much), and prepares the
  // ranker's vocabulary table.
  Status WarmLexicalSearch();
  // The model's row, created (with `dim` and `spec`) when new.
  Result<ModelRecord> EnsureModel(const std::string& model_id, int dim, const std::string& spec);
  Result<std::vector<ModelRecord>> Models();
  Result<std::optional<ModelRecord>> FindModel(const std::string& model_id);
  // Content of current nodes of the kinds that get vectors (the searchable
  // ones but modules and impl blocks) without a vector of `model`, each
  // content hash once, texts cut at `max_text_bytes`. Only node rows above
  // `after_rowid` are looked at (rows up to it are known to have vectors);
  // `*last_rowid`, when given, receives the highest node rowid there is.
  Result<std::vector<EmbedJob>> PendingEmbeddings(int64_t model, size_t max_text_bytes,
                                                  int64_t after_rowid = 0,
                                                  int64_t* last_rowid = nullptr);
  // Stores rows of dim floats for the content hashes (one transaction);
  // existing (model, hash) rows are kept.
  Status PutVectors(int64_t model, int dim, const std::vector<ContentHash>& hashes,
                    const std::vector<float>& rows);
  Result<VectorSetState> VectorState(int64_t model);
  // Visits the model's vectors with id > after_id in id order.
  Status ForEachVector(int64_t model, int64_t after_id,
                       const std::function<Status(int64_t id, std::span<const float>)>& fn);
  // The model's vectors of nodes the filter admits (sorted ids).
  Result<std::vector<uint64_t>> VectorIdsMatching(int64_t model, const NodeFilter& filter);
  // The nodes the filter admits whose content is one of the vectors `ids`
  // of `model`, as (vector id, node) pairs in no particular order.
  Result<std::vector<std::pair<uint64_t, Node>>> NodesWithVectors(int64_t model,
                                                                  const std::vector<uint64_t>& ids,
                                                                  const NodeFilter& filter);
  // Of `ids`, the nodes the filter admits (any order).
  Result<std::vector<Node>> NodesMatching(const std::vector<NodeId>& ids, const NodeFilter& filter);
  // The cfg predicates and attributes on the way up from each of `ids`: for
  // the node and every node that contains it, up to its crate, as of
  // `as_of` (nullopt: the current graph), one (id of `ids`, attributes)
  // pair per node on the way that has any, nearest first (the node itself,
  // its container, ...; ids in no particular order among themselves). The
  // Node of a pair holds only its id, kind, path, cfgs, derives, attrs and
  // in_macro.
  Result<std::vector<std::pair<NodeId, Node>>> AttributesUpward(const std::vector<NodeId>& ids,
                                                                std::optional<int64_t> as_of);
  // Stored edges of `kinds` with an end in `ids`, valid as of `as_of`
  // (current when nullopt), plus each node's CONTAINS edge from its parent:
  // kind and ends only (for walks over the graph); line and file are not
  // read.
  Result<std::vector<Edge>> EdgesTouching(const std::vector<NodeId>& ids,
                                          const std::vector<EdgeKind>& kinds,
                                          std::optional<int64_t> as_of);
  // The id of the model's newest vector if it is above `known`, else
  // `known`: cheap, for noticing that vectors were added since an index was
  // loaded.
  Result<int64_t> LastVectorId(int64_t model, int64_t known);
  // Drops vectors of models not in `keep_models` and of content that no
  // node row (of any kept version) has; drops those models' rows.
  Result<GcReport> CollectGarbage(const std::vector<std::string>& keep_models);
  // A small key-value store for settings kept with the database
  // ("embedders", ...).
  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);

  // Whether commits checkpoint the write-ahead log themselves (SQLite's
  // default, every 1000 pages). A long-running writer turns this off and
  // leaves checkpoints to a WalCheckpointer (store/checkpointer.h).
  Status SetAutoCheckpoint(bool on);

  // ---- writes ----
  // Starts the one write transaction. Fails with IOError when another
  // writer holds the database longer than the busy timeout. `keep_rows`:
  // a long-running writer keeps, after it commits, the rows it left in its
  // largest files (store/file_rows.h), so that the next write of such a file
  // diffs against them instead of reading them back.
  Result<std::unique_ptr<WriteTxn>> BeginWrite(bool keep_rows = false);
  // How many files' rows are kept (for tests and benchmarks).
  size_t kept_row_files() const { return kept_rows_->files(); }

 private:
  friend class WriteTxn;
  Store(std::unique_ptr<Database> db, std::string path);
  Status Migrate(bool read_only);
  // Sets the journal mode ("wal", "delete"); true when SQLite took it.
  Result<bool> SetJournalMode(const std::string& mode);

  // The predicate of the rows the reads see: "valid_to IS NULL", or those
  // valid at the read version. `alias` qualifies the columns ("n").
  std::string Live(std::string_view alias = "") const;
  Result<GraphStats> StatsAsOf(int64_t ordinal);

  std::unique_ptr<Database> db_;
  std::string path_;
  std::optional<int64_t> read_version_;
  SpanOverlayCache overlays_;                        // decoded span overlays, by row
  std::unique_ptr<LexicalRanker> lexical_ranker_;    // made by the first LexicalSearch
  std::unique_ptr<LexicalLengths> lexical_lengths_;  // token counts kept by LexicalSearch
  std::unique_ptr<KeptFileRows> kept_rows_ = std::make_unique<KeptFileRows>();
};

// One ingest's writes: one transaction, one version. Not thread-safe; used
// by the single writer thread. Destroying an uncommitted WriteTxn rolls back.
class WriteTxn {
 public:
  ~WriteTxn();

  // Makes the current rows of (update.file.crate_key, update.file.path) equal
  // to `update`: unchanged rows stay, changed rows are closed and replaced,
  // missing rows are closed, new rows are inserted.
  Status ApplyFile(const FileUpdate& update);
  // ApplyFile in two steps, for a writer that has a file's nodes before its
  // edges (they are resolved meanwhile): BeginFile writes the file row and
  // the node rows (update.edges is not looked at), FinishFile the edge rows
  // and the span overlay, `update` then holding its edges too (its file
  // and nodes unchanged). No other file is written in between.
  Status BeginFile(const FileUpdate& update);
  Status FinishFile(const FileUpdate& update);
  // Closes every current row of (crate_key, path).
  Status RemoveFile(const std::string& crate_key, const std::string& path);

  const WriteStats& stats() const { return stats_; }
  int64_t ordinal() const { return ordinal_; }

  // Commits and returns the new version; when nothing changed, rolls back
  // and returns nullopt (no empty versions).
  Result<std::optional<VersionInfo>> Commit(const std::string& summary_json);

 private:
  friend class Store;
  WriteTxn(Store* store, int64_t ordinal);
  Status Prepare();
  Result<int64_t> FileKey(const std::string& crate_key, const std::string& path);
  void CountNode(const Node& n, int sign);
  Status FlushCounts();
  // The rows of one file: nodes and edges, and its span overlay (the spans
  // of the rows kept in a new place, span_overlay.h), written in two steps:
  // BeginRows takes the file's current rows and writes its node rows,
  // FinishFile its edge rows and overlay. The file begun and not finished:
  // its key, its rows, the overlay so far.
  struct OpenFile {
    int64_t file_key = 0;
    std::unique_ptr<FileRows> rows;
    SpanOverlay next;
  };
  std::optional<OpenFile> open_;
  Status BeginFileRows(const FileUpdate& update, bool edges_known);
  Status BeginRows(const FileUpdate& update, int64_t file_key, bool edges_known);
  // Reads the current rows of a file (`path` names it in errors).
  Status LoadRows(int64_t file_key, const std::string& path, FileRows* rows);
  // Diff `update` against `rows`, write the difference, and leave `rows` as
  // the rows now are (node and edge rows; `next` gets the new overlay).
  Status ApplyNodes(const FileUpdate& update, int64_t file_key, FileRows& rows, SpanOverlay* next);
  Status ApplyEdges(const FileUpdate& update, int64_t file_key, FileRows& rows, SpanOverlay* next);

  Store* store_;
  int64_t ordinal_;
  bool done_ = false;
  bool bulk_ = false;          // writing into an empty database: indexes built at commit
  bool restore_wal_ = false;   // this write runs on a rollback journal; WAL after it
  bool keep_rows_ = false;     // see Store::BeginWrite
  bool keep_current_ = false;  // the file being written is kept
  // The rows of the files written (and kept), for the Store at commit.
  std::vector<std::pair<int64_t, std::unique_ptr<FileRows>>> written_rows_;
  size_t written_rows_count_ = 0;
  // Changes to the counts table: node kinds, then edge kinds, then files.
  static constexpr size_t kFilesCountSlot = kNodeKindCount + kEdgeKindCount;
  std::array<int64_t, kFilesCountSlot + 1> count_delta_{};
  WriteStats stats_;
  struct Statements;
  std::unique_ptr<Statements> st_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_STORE_H_
