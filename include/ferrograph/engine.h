// ferrograph's public API: index a Rust workspace into a versioned code graph
// and query it. The CLI and the MCP server use only this header (and the
// value headers it includes).
//
// An Engine owns one connection to one database. Index() is the single
// writer: one call commits one version (or none, when nothing changed), and a
// failure or a kill leaves the previous version intact. Queries read the last
// committed version; open a separate Engine per thread.
//
// Every method returns Status/Result; none throws.
#ifndef FERROGRAPH_ENGINE_H_
#define FERROGRAPH_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/history.h"
#include "ferrograph/ids.h"
#include "ferrograph/query.h"
#include "ferrograph/search.h"
#include "ferrograph/stats.h"
#include "ferrograph/status.h"

namespace ferrograph {

class Store;
class Searcher;
class ExtractionCache;
class WalCheckpointer;

// Where a workspace's database lives unless told otherwise:
// ROOT/.ferrograph/graph.db (ROOT's directory when ROOT is a file).
std::string DefaultDatabasePath(const std::string& root);

struct IndexProgress {
  uint64_t files_done = 0;
  uint64_t files_total = 0;  // grows while crates are discovered
  uint64_t bytes_done = 0;
  std::string current;  // the crate being indexed
  // After the files, the search indexes: "lexical index", "embedding with
  // MODEL", "vector index of MODEL" (empty while files are indexed), with
  // their own counts (0 of 0 when there is nothing to count).
  std::string stage;
  uint64_t stage_done = 0;
  uint64_t stage_total = 0;
};

struct IndexOptions {
  // Parser threads; 0 means one per hardware thread.
  int jobs = 0;
  // Files larger than this are skipped with a warning.
  uint64_t max_file_bytes = 16ull << 20;
  // Files in flight between the reader, the parsers and the writer; bounds
  // memory whatever the size of the workspace.
  size_t queue_capacity = 256;
  // Index examples/ targets of packages.
  bool include_examples = true;
  // Resolve names into IMPLEMENTS, CALLS, USES_TYPE, ... edges. Off, only
  // the items and their containment are indexed (what the speed benchmark
  // compares against).
  bool resolve = true;
  // Keep the search indexes current after the graph is written: the lexical
  // index, and the vectors (and HNSW sidecar) of each embedder.
  bool search_index = true;
  // Embedder specs ("hash", "fasttext:FILE.bin", "openai:MODEL"); the
  // database remembers them. Empty: the ones it was last indexed with
  // ("hash" the first time). {"none"}: no vectors.
  std::vector<std::string> embedders;
  // Called from the indexing thread, at most every few milliseconds.
  std::function<void(const IndexProgress&)> on_progress;
  // Keep the files' parses in memory for the next Index() of this Engine
  // (bounded): after an edit, re-resolving a crate parses the changed files
  // only. For long-running indexers (`watch`); a one-shot run gains nothing.
  bool keep_parses = false;
  // Where they are kept (Engine::Index sets it when keep_parses is on).
  std::shared_ptr<ExtractionCache> extraction_cache;
  // The files (absolute, or relative to the root) that may have changed
  // since this Engine's last complete run on the same root, when the caller
  // knows them (`watch` does, from inotify). With keep_parses, the run then
  // starts from what the last run found on disk and looks at these files
  // only, provided that each of them existed then and exists now; a file
  // created or deleted, or any other path (a Cargo.toml), makes it look at
  // everything. Whoever passes them vouches that nothing else changed.
  // Unset: every file is looked at.
  std::optional<std::vector<std::string>> changed_paths;
};

struct IndexReport {
  std::string root;
  std::string db_path;
  int64_t crates = 0;
  int64_t files_seen = 0;    // files of the module trees, read and hashed
  int64_t files_parsed = 0;  // of which parsed (new or changed)
  int64_t files_unchanged = 0;
  // Files read from disk; a `watch` engine does not read a file whose stat
  // is the one it last read it at (and it had settled by then).
  int64_t files_read = 0;
  int64_t files_failed = 0;  // unreadable, not UTF-8, binary, too large
  // Files rewritten or removed while the run used them: indexed as they
  // were before (the database's bytes), so the next run takes the change.
  int64_t files_changed_meanwhile = 0;
  int64_t bytes_parsed = 0;
  WriteStats delta;
  std::optional<VersionInfo> version;  // nullopt when nothing changed
  std::vector<std::string> warnings;   // "src/x.rs:12:5: syntax error", ...
  CallResolutionStats links;           // call sites of the re-resolved crates
  // Crates whose edited files were relinked alone (`watch`: their items,
  // signatures and imports were unchanged), and those files.
  int64_t crates_relinked_by_file = 0;
  int64_t files_relinked = 0;
  double resolve_seconds = 0;  // spent resolving, on the linker thread (overlaps the rest)
  // The run looked only at IndexOptions::changed_paths (from the last
  // run's scan) instead of the whole tree.
  bool targeted = false;
  double seconds = 0;
  // The search indexes (when IndexOptions.search_index).
  struct Embedding {
    std::string model_id;
    int64_t embedded = 0;    // content newly embedded (each content hash once)
    int64_t vectors = 0;     // the model's vectors now
    int64_t text_bytes = 0;  // of text embedded
    double embed_seconds = 0;
    std::string vector_index;  // what happened to the HNSW sidecar
    double vector_index_seconds = 0;
  };
  int64_t lexical_rows = 0;  // node rows added to the lexical index
  std::vector<Embedding> embeddings;
  double search_seconds = 0;  // lexical + embedding + sidecar
};

struct ModelTrainOptions {
  std::string out_path;
  int dim = 100;
  int epochs = 5;
};

// What `gc` dropped.
struct GcResult {
  int64_t vectors_removed = 0;
  int64_t models_removed = 0;
  std::vector<std::string> files_removed;  // sidecars of dropped models
};

// Parses a time as `--as-of` takes it: RFC 3339 ("2026-11-26T08:00:00Z",
// "2026-11-26T09:00+01:00"; no zone means UTC), a date ("2026-11-26", its
// midnight UTC) or "@UNIX_SECONDS". Milliseconds since the epoch.
std::optional<uint64_t> ParseTimeSpec(const std::string& text);

// A node with what surrounds it, for `show`.
struct NodeDetails {
  Node node;
  std::optional<std::string> source;
  std::optional<Node> container;  // the node that CONTAINS it
  std::vector<Node> children;     // what it CONTAINS, in source order
  // Edges other than CONTAINS, each with the node at its other end
  // (IMPLEMENTS, IMPL_FOR, ...); sorted by kind, then the other node's path.
  struct Link {
    Edge edge;
    Node other;
  };
  std::vector<Link> out_edges;  // from this node
  std::vector<Link> in_edges;   // to this node
  // Other paths the item is public under, through `pub use` re-exports
  // ("regex::Regex" for regex::re_unicode::Regex), sorted.
  std::vector<std::string> public_paths;
};

class Engine {
 public:
  struct Options {
    std::string db_path;
    bool read_only = false;
  };
  // Opens (creating when not read_only) the database.
  static Result<std::unique_ptr<Engine>> Open(const Options& options);
  ~Engine();

  // Indexes the workspace at `root` into this engine's database.
  Result<IndexReport> Index(const std::string& root, const IndexOptions& options);

  Result<GraphStats> Stats();
  // Nodes matching a canonical path, a path suffix ("Regex::new") or a name;
  // failing those, a path through `pub use` re-exports ("regex::Regex" for
  // regex::re_unicode::Regex).
  Result<std::vector<Node>> Find(const std::string& query, int limit = 50);
  Result<NodeDetails> Describe(const NodeId& id);
  // Ranked search over the current graph (or as of request.as_of).
  Result<SearchResponse> Search(const SearchRequest& request);
  // Loads now what the first Search would otherwise load while its caller
  // waits: the default embedder with its vector index (a sidecar of a few
  // hundred MB on a large workspace) and the lexical index's row lengths.
  // For a server, once at start. Returns early, without error, once `stop`
  // is set (read between the steps).
  Status WarmSearch(const std::atomic<bool>& stop);
  // Drops vectors of models no configured embedder makes and of content no
  // stored node row has, and the sidecars of dropped models.
  Result<GcResult> CollectGarbage();
  // Trains fastText subword vectors on the current graph's searchable items
  // (each item's docs, signature and body, once per content) and writes the
  // model to options.out_path. Returns the number of items trained on.
  Result<int64_t> TrainEmbeddingModel(const ModelTrainOptions& options);

  // ---- history (history.cc) ----
  Result<std::vector<VersionInfo>> Versions();
  // A kept version named by `spec`: its UUID, its number ("12" or "#12"),
  // "latest", or a time (ParseTimeSpec): the last version committed at or
  // before it.
  Result<VersionInfo> ResolveVersion(const std::string& spec);
  // Answers every read from now on (queries, search, stats, export) as of
  // the version `spec` names.
  Result<VersionInfo> PinVersion(const std::string& spec);
  std::optional<int64_t> pinned_version() const;
  // Every kept state of the nodes `query` names (a canonical path, a path
  // suffix or an id; nodes removed since included), by node, oldest first;
  // with each state's source text when `with_source`.
  Result<std::vector<NodeRevision>> History(const std::string& query, bool with_source,
                                            int limit = 1000);
  // What changed from `from` to `to`.
  Result<GraphDiff> Diff(const VersionInfo& from, const VersionInfo& to, bool with_edges);
  // Drops all but the newest `keep` versions and the rows only they could
  // see; answers as of the kept versions do not change.
  Result<HistoryGcReport> DropOldVersions(int64_t keep);

  // Writes every current node and edge as JSON Lines (see README).
  Status Export(std::ostream& out);

  // ---- graph queries over the current graph (query.h) ----
  // Each takes a non-empty set of node ids (one node, or every crate's
  // external node of one path) and treats it as one node. An id with no
  // current node fails with NotFound; bad options with InvalidArgument.

  // The callers (or callees) of `roots` over CALLS edges, transitively up to
  // options.depth levels, each node expanded once, with the call sites.
  Result<CallTree> Calls(const std::vector<NodeId>& roots, CallDirection direction,
                         const CallTreeOptions& options);
  // For a trait, its impls and the types that derive it; for a type, its
  // impls (inherent and of traits) and derives. Sorted by file and line.
  Result<std::vector<Implementation>> Implementations(const std::vector<NodeId>& targets);
  // The nodes with USES_TYPE edges into `types`, sorted by path.
  Result<std::vector<TypeUse>> TypeUses(const std::vector<NodeId>& types);
  // A shortest path from any of `from` to any of `to` (breadth-first from
  // both ends). Not finding one is a result (found == false), not an error.
  Result<PathResult> ShortestPath(const std::vector<NodeId>& from, const std::vector<NodeId>& to,
                                  const PathOptions& options);
  // The nodes within options.depth hops of `roots` (edges followed either
  // way) and the edges among them.
  Result<Subgraph> Neighbourhood(const std::vector<NodeId>& roots, const SubgraphOptions& options);

 private:
  Engine(std::unique_ptr<Store> store, Options options);
  Result<std::vector<NodeId>> ImplementorSet(const std::string& trait);
  Status UpdateSearch(const IndexOptions& options, IndexReport* report);
  Result<std::vector<Node>> FindThroughReExports(const std::string& query, int limit);
  std::unique_ptr<Store> store_;
  Options options_;
  std::unique_ptr<Searcher> searcher_;                 // made on first search
  std::shared_ptr<ExtractionCache> extraction_cache_;  // made on first keep_parses index
  // A long-running writer (keep_parses) checkpoints the WAL on this
  // thread after its commits, not inside them.
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_ENGINE_H_
