// Store: the SQLite database that holds the versioned code graph. It is the
// source of truth; every sidecar can be rebuilt from it.
//
// Layout (schema version 1, see store.cc for the DDL):
//   versions  one row per committed ingest: ordinal, UUIDv7, time, summary
//   files     per (crate, file): BLAKE3 of the bytes, module context, the
//             file's `mod` declarations; versioned like nodes
//   nodes     one row per node state, valid over versions [valid_from, valid_to)
//   edges     likewise, each owned by the file whose content produced it;
//             CONTAINS is not stored as edge rows but as each node's parent
//   contents  file bytes, stored once per file hash; a node's source text
//             is its span of its file's bytes
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
#include <string>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/ids.h"
#include "ferrograph/stats.h"
#include "ferrograph/status.h"

namespace ferrograph {

class Database;

inline constexpr int kSchemaVersion = 1;

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

  // ---- reads (current graph) ----
  Result<std::vector<FileRecord>> CurrentFiles();
  Result<std::vector<VersionInfo>> Versions();
  Result<GraphStats> Stats();
  Result<std::optional<Node>> GetNode(const NodeId& id);
  // Nodes whose canonical path equals `query`; else whose path ends with
  // "::query"; else whose name equals `query`. At most `limit`.
  Result<std::vector<Node>> FindNodes(const std::string& query, int limit);
  Result<std::vector<Edge>> EdgesFrom(const NodeId& id, std::optional<EdgeKind> kind);
  Result<std::vector<Edge>> EdgesTo(const NodeId& id, std::optional<EdgeKind> kind);
  // The current source text of node `id`: its span of its file's bytes.
  Result<std::optional<std::string>> NodeSource(const NodeId& id);
  // Visits every current node / edge in a stable order; stops at the first
  // error a callback returns.
  Status ForEachNode(const std::function<Status(const Node&)>& fn);
  Status ForEachEdge(const std::function<Status(const Edge&)>& fn);

  // ---- writes ----
  // Starts the one write transaction. Fails with IOError when another
  // writer holds the database longer than the busy timeout.
  Result<std::unique_ptr<WriteTxn>> BeginWrite();

 private:
  friend class WriteTxn;
  Store(std::unique_ptr<Database> db, std::string path);
  Status Migrate(bool read_only);
  // Sets the journal mode ("wal", "delete"); true when SQLite took it.
  Result<bool> SetJournalMode(const std::string& mode);

  std::unique_ptr<Database> db_;
  std::string path_;
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
  Status ApplyNodes(const FileUpdate& update, int64_t file_key);
  Status ApplyEdges(const FileUpdate& update, int64_t file_key);

  Store* store_;
  int64_t ordinal_;
  bool done_ = false;
  bool bulk_ = false;         // writing into an empty database: indexes built at commit
  bool restore_wal_ = false;  // this write runs on a rollback journal; WAL after it
  // Changes to the counts table: node kinds, then edge kinds, then files.
  static constexpr size_t kFilesCountSlot = kNodeKindCount + kEdgeKindCount;
  std::array<int64_t, kFilesCountSlot + 1> count_delta_{};
  WriteStats stats_;
  struct Statements;
  std::unique_ptr<Statements> st_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_STORE_H_
