#include "ingest/indexer.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/bounded_queue.h"
#include "common/clock.h"
#include "common/memory.h"
#include "graph/extract.h"
#include "hash/blake3_hasher.h"
#include "ingest/extraction_cache.h"
#include "ingest/source_file.h"
#include "ingest/workspace.h"
#include "parse/rust_parser.h"
#include "resolve/link.h"

namespace ferrograph {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kMaxDiagnosticsPerFile = 5;

constexpr const char* kExternalFile = kExternalNodesFile;

struct TargetPlan {
  const Package* package = nullptr;
  Target target;
  std::string crate_key;  // unique within the database
};

struct PackagePlan {
  const Package* package = nullptr;
  std::vector<TargetPlan> targets;
  std::vector<std::string> files;  // candidate .rs files, absolute, sorted
};

struct FileJob {
  size_t package = 0;
  std::string abs;
};

// One file as read (and maybe parsed) by a worker.
struct FileState {
  size_t package = 0;
  std::string abs;
  std::string rel;
  Status status;  // why the file could not be used
  std::string source;
  // False when the file's stat showed it unchanged since an earlier run
  // read it (ExtractionCache::KnownHash): `source` is read when needed.
  bool source_loaded = true;
  ContentHash hash;
  uint64_t size = 0;
  bool parsed = false;
  // Shared with the content cache, the kept tree and the linker; never
  // changed once made.
  std::shared_ptr<const FileExtraction> extraction;
};

// A module declaration as stored in files.mods (JSON) and as walked.
struct ModRef {
  std::string name;
  std::optional<std::string> path_attr;
  std::vector<std::pair<std::string, std::optional<std::string>>> enclosing;
  std::string rel;  // the mod item's path relative to the file's module
  uint32_t disambiguator = 0;
  uint32_t line = 0;
};

std::string ModsToJson(const std::vector<ModRef>& mods) {
  json arr = json::array();
  for (const ModRef& m : mods) {
    json enc = json::array();
    for (const auto& [n, p] : m.enclosing) enc.push_back({n, p ? json(*p) : json(nullptr)});
    arr.push_back({{"name", m.name},
                   {"path", m.path_attr ? json(*m.path_attr) : json(nullptr)},
                   {"enclosing", enc},
                   {"rel", m.rel},
                   {"d", m.disambiguator},
                   {"line", m.line}});
  }
  return arr.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<ModRef> ModsFromJson(const std::string& text) {
  std::vector<ModRef> out;
  json arr = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!arr.is_array()) return out;
  for (const json& j : arr) {
    if (!j.is_object()) continue;
    ModRef m;
    m.name = j.value("name", "");
    if (j.contains("path") && j["path"].is_string()) m.path_attr = j["path"].get<std::string>();
    if (j.contains("enclosing") && j["enclosing"].is_array()) {
      for (const json& e : j["enclosing"]) {
        if (!e.is_array() || e.size() != 2 || !e[0].is_string()) continue;
        std::optional<std::string> p;
        if (e[1].is_string()) p = e[1].get<std::string>();
        m.enclosing.emplace_back(e[0].get<std::string>(), p);
      }
    }
    m.rel = j.value("rel", m.name);
    m.disambiguator = j.value("d", 0u);
    m.line = j.value("line", 0u);
    if (!m.name.empty()) out.push_back(std::move(m));
  }
  return out;
}

std::string RelativePath(const std::string& abs, const std::string& root) {
  fs::path rel = fs::path(abs).lexically_relative(root);
  if (rel.empty()) return fs::path(abs).filename().string();
  return rel.generic_string();
}

std::string Join(const std::string& module_path, const std::string& rel) {
  if (rel.empty()) return module_path;
  std::string out;
  out.reserve(module_path.size() + 2 + rel.size());
  out.append(module_path).append("::").append(rel);
  return out;
}

// Items of one file by (canonical path, kind), counting repeats.
struct PathKindHash {
  size_t operator()(const std::pair<std::string_view, NodeKind>& k) const {
    return std::hash<std::string_view>()(k.first) * 31 + static_cast<size_t>(k.second);
  }
};

std::string LastSegment(const std::string& path) { return std::string(LastPathSegment(path)); }

// The disambiguator of an item: 0 for the first of its (path, kind) under an
// undisambiguated parent, so that common ids never depend on it; otherwise
// it folds in the parent's, so that two same-path containers (an inline
// `mod imp {}` and a `mod imp;` file under opposite cfgs, two cfg'd impl
// blocks) never give their children the same NodeId.
uint32_t ChildDisambiguator(uint32_t parent, uint32_t occurrence) {
  if (parent == 0) return occurrence;
  uint64_t x = (uint64_t{parent} << 32 | occurrence) * 0x9E3779B97F4A7C15ull;
  return static_cast<uint32_t>(x >> 32) | 0x80000000u;  // never a small occurrence count
}

// The predicates of the `cfg(..)` entries among inner attributes
// ("cfg(feature = \"serde\")" -> "feature = \"serde\"").
std::vector<std::string> CfgPredicates(const std::vector<std::string>& attrs) {
  std::vector<std::string> out;
  for (const std::string& a : attrs) {
    if (a.rfind("cfg(", 0) == 0 && a.size() > 5 && a.back() == ')')
      out.push_back(a.substr(4, a.size() - 5));
  }
  return out;
}

// Where a file sits in its crate's module tree.
struct ModuleContext {
  std::string module_path;
  bool like_mod_rs = false;
  uint32_t disambiguator = 0;
  bool is_crate_root = false;
  bool synthesized = false;  // a plain-directory file no `mod` declares
};

// A digest of everything ApplyFile writes for `u`: equal digests, equal rows.
ContentHash UpdateFingerprint(const FileUpdate& u) {
  FieldDigest d(256 * (u.nodes.size() + u.edges.size()) + 256);
  const FileRecord& f = u.file;
  for (std::string_view s : {std::string_view(f.crate_key), std::string_view(f.path),
                             std::string_view(f.module_path), std::string_view(f.mods_json)})
    d.Field(s);
  d.Number(f.like_mod_rs);
  d.Number(f.size);
  d.Number(f.module_disambiguator);
  d.Bytes(f.hash);
  d.Number(u.nodes.size());
  for (const Node& n : u.nodes) {
    d.Bytes(n.id);
    d.Bytes(n.content_hash);
    d.Bytes(n.parent);
    for (std::string_view s :
         {KindName(n.kind), std::string_view(n.name), std::string_view(n.path),
          std::string_view(n.crate_name), std::string_view(n.file), VisibilityName(n.visibility),
          std::string_view(n.signature), std::string_view(n.docs), std::string_view(n.in_macro)})
      d.Field(s);
    for (uint64_t v : {n.span.start_byte, n.span.end_byte, n.span.start_line, n.span.end_line})
      d.Number(v);
    d.Fields(n.cfgs);
    d.Fields(n.derives);
    d.Fields(n.attrs);
  }
  for (const Edge& e : u.edges) {
    if (e.kind == EdgeKind::kContains) continue;  // not written (the nodes' parents)
    d.Bytes(e.src);
    d.Bytes(e.dst);
    d.Number(e.line);
    for (std::string_view s :
         {KindName(e.kind), std::string_view(e.file), std::string_view(e.props)})
      d.Field(s);
  }
  return d.Finish();
}

// Files at least this large keep their syntax tree in a `watch` engine
// from the first run on: their full parse takes milliseconds.
constexpr uint64_t kKeepTreeBytes = 16 << 10;

class Indexer {
 public:
  Indexer(Store& store, std::string root, const IndexOptions& options)
      : store_(store), root_(std::move(root)), options_(options) {}
  ~Indexer() {  // joins the linker and the writer on every path out of Run()
    StopLinker();
    StopWriter();
  }

  Result<IndexReport> Run();

 private:
  Status Plan(const Workspace& ws);
  void LoadPrevious(const std::vector<FileRecord>& files);
  FileState ReadFile(size_t package, const std::string& abs, RustParser& parser,
                     bool force_parse) const;
  // Reads s.source when ReadFile left it out (its stat, or the last run,
  // showed bytes the store has). A file rewritten or removed since is read
  // from the store instead; one that cannot be had either way fails the
  // run (before it commits): load_failure_.
  void LoadSource(FileState& s) const;
  mutable std::mutex load_mu_;
  mutable Status load_failure_;  // guarded by load_mu_
  // The committed text of a content hash, through a read-only connection
  // of its own (the write transaction belongs to the writer thread);
  // called with load_mu_ held.
  Result<std::optional<std::string>> StoredText(const ContentHash& hash) const;
  mutable std::unique_ptr<Store> reader_;        // guarded by load_mu_
  mutable int64_t files_changed_meanwhile_ = 0;  // guarded by load_mu_
  // Files read outside the reading workers (LoadSource, #[path] modules,
  // libraries linked from their files), for IndexReport::files_read.
  mutable std::atomic<int64_t> files_read_elsewhere_{0};
  // Fills s.extraction: from options_.extraction_cache when it has the
  // file's bytes, else by parsing (and then remembered there).
  void ExtractInto(FileState& s, RustParser& parser) const;
  Status ProcessPackage(PackagePlan& plan, std::unordered_map<std::string, FileState>& states);
  Status ProcessTarget(const TargetPlan& target, const PackagePlan& plan,
                       std::unordered_map<std::string, FileState>& states);
  // `quiet`: no warnings for the file's syntax errors (a second pass).
  FileUpdate BuildFile(const TargetPlan& target, const ModuleContext& ctx, FileState& state,
                       std::vector<ModRef>* mods, bool quiet = false);
  // One file of the crate being indexed, in module-tree order.
  struct WalkedFile {
    FileState* state = nullptr;
    ModuleContext ctx;
    bool unchanged = false;
    std::optional<FileUpdate> update;  // built for changed (or re-resolved) files
  };
  // One file of a crate to link, owned: the linker thread works on it while
  // the indexing thread goes on.
  struct CrateFile {
    ModuleContext ctx;
    std::shared_ptr<const FileExtraction> extraction;
    FileUpdate update;
  };
  struct LinkJob {
    const TargetPlan* target = nullptr;
    std::vector<CrateFile> files;
    // Not empty: only these files of the crate's kept link changed, each
    // keeping its interface (files[i] is its file relink[i]).
    std::vector<size_t> relink;
  };
  // Resolves the crate's references into edges on the files' updates
  // (resolve/link.h); returns the crate's external nodes' update. Runs on
  // the linker thread.
  std::optional<FileUpdate> ResolveCrate(const TargetPlan& target, std::vector<CrateFile>& files,
                                         int depth = 0);
  // The update of the crate's external nodes' pseudo file.
  FileUpdate ExternalsUpdate(const TargetPlan& target, std::vector<Node> externals) const;
  // The linker thread: resolves each crate handed over (in order, so that a
  // crate's workspace dependencies are linked before it) and writes it.
  Status LinkAndWrite(LinkJob& job);
  // A relink job: the kept link relinks the changed files only.
  Status RelinkAndWrite(LinkJob& job);
  // When the crate's kept link (watch) has the same files and every
  // changed one kept its interface, hands the changed files to the linker
  // thread to be relinked alone, and says so.
  Result<bool> TryRelink(const TargetPlan& target, std::vector<WalkedFile>& walked);
  std::shared_ptr<LiveCrateLink> KeptLinkOf(const std::string& crate_key);
  void KeepLink(const std::string& crate_key, std::unique_ptr<LiveCrateLink> link, uint64_t bytes);
  void StartLinker();
  Status StopLinker();
  BoundedQueue<LinkJob> link_queue_{4};
  std::thread linker_;
  std::mutex linker_mu_;
  Status linker_status_;  // guarded by linker_mu_
  std::atomic<bool> linker_failed_{false};
  RustParser link_parser_;  // for dependencies linked from their files
  // The linked library of workspace package `package_name` (unique by
  // name), for the crates that depend on it: linked earlier in this run, or
  // now from its files without writing anything (it was unchanged). Null
  // when there is no such single package or library.
  std::shared_ptr<const LinkedCrate> LinkedLibOf(const std::string& package_name, int depth);
  std::shared_ptr<const LinkedCrate> LinkUnchangedLib(const TargetPlan& target, int depth);
  // The edges this run makes: kLinkVersion when resolving, 0 with
  // --no-resolve; recorded in each version's summary.
  static constexpr int64_t kLinkVersion = 2;
  int64_t LinkVersion() const { return options_.resolve ? kLinkVersion : 0; }
  bool relink_all_ = false;  // the stored edges came from another linker
  // The crates as linked last (ExtractionCache::TakeLinks), for relinking
  // one file; handed back when the run commits. The map is guarded by
  // links_mu_; a crate's link is used by one thread at a time (the
  // indexing thread before it hands the crate over, then the linker).
  KeptLinks links_;
  std::mutex links_mu_;
  uint64_t run_number_ = 0;
  // Packages whose library was resolved again in this run.
  std::set<std::string> relinked_packages_;
  // crate key of a library target -> its linked crate.
  std::map<std::string, std::shared_ptr<const LinkedCrate>> linked_libs_;
  Status WriteCrateOnly(const TargetPlan& target);
  void AddWarning(std::string w) { report_.warnings.push_back(std::move(w)); }
  void Progress(bool force);

  Store& store_;
  std::string root_;
  IndexOptions options_;
  IndexReport report_;
  std::unique_ptr<WriteTxn> txn_;
  // The writer thread owns txn_ between StartWriter() and StopWriter(): the
  // indexing thread hands it finished FileUpdates through a bounded queue,
  // so building nodes overlaps with SQLite's work.
  Status Write(FileUpdate update);
  // A file's edges, resolved on the linker thread while the writer writes
  // the file's node rows (WriteTxn::BeginFile): handed over once.
  class EdgesLater {
   public:
    void Set(std::vector<Edge> edges) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        edges_ = std::move(edges);
        state_ = kSet;
      }
      cv_.notify_all();
    }
    void Fail() {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (state_ == kWaiting) state_ = kFailed;
      }
      cv_.notify_all();
    }
    // Waits for Set (true, the edges moved to *out) or Fail (false).
    bool Take(std::vector<Edge>* out) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return state_ != kWaiting; });
      if (state_ != kSet) return false;
      *out = std::move(edges_);
      return true;
    }

   private:
    enum State { kWaiting, kSet, kFailed };
    std::mutex mu_;
    std::condition_variable cv_;
    State state_ = kWaiting;
    std::vector<Edge> edges_;
  };
  struct WriteItem {
    std::shared_ptr<FileUpdate> update;
    std::shared_ptr<EdgesLater> later;  // null: update->edges are complete
  };
  // Queues `update`, whose edges `later` will bring (the caller sets or
  // fails it whatever happens). Its nodes must not change from now on.
  Status WriteLater(std::shared_ptr<FileUpdate> update, std::shared_ptr<EdgesLater> later);
  void StartWriter();
  Status StopWriter();
  BoundedQueue<WriteItem> write_queue_{64};
  std::thread writer_;
  std::mutex writer_mu_;
  Status writer_status_;  // guarded by writer_mu_: the first write error
  std::atomic<bool> writer_failed_{false};
  // What this run wrote (writer thread) and removed, for the ExtractionCache.
  std::map<ExtractionCache::FileKey, ExtractionCache::WrittenFile> written_fingerprints_;
  std::vector<ExtractionCache::FileKey> removed_files_;
  RustParser parser_;  // for files parsed on the indexing thread

  std::vector<std::unique_ptr<Package>> packages_;
  std::vector<PackagePlan> plans_;
  // (crate_key, rel) -> previous file record.
  std::map<std::pair<std::string, std::string>, FileRecord> previous_;
  // rel -> hashes the store has for that file (any crate).
  std::unordered_map<std::string, std::vector<ContentHash>> previous_hashes_;
  std::set<std::string> crate_keys_seen_;
  std::set<std::pair<std::string, std::string>> files_reached_;
  std::set<std::string> visited_in_package_;  // files some target of the package reached

  // A targeted run (IndexOptions::changed_paths): the last run's scan and
  // the files that changed since (absolute, normalized).
  bool StartFromScan(const ScanMemo& last);
  std::shared_ptr<const ScanMemo> memo_;
  std::unordered_set<std::string> changed_;
  // What this run finds on disk, kept for the next run when it completes
  // (with an ExtractionCache only). `files` is filled by NoteRead, from any
  // thread.
  std::shared_ptr<ScanMemo> scan_;
  mutable std::mutex scan_mu_;
  void NoteRead(const FileState& s) const;

  IndexProgress progress_;
  uint64_t last_progress_ns_ = 0;
};

void Indexer::StartWriter() {
  writer_ = std::thread([this] {
    while (std::optional<WriteItem> item = write_queue_.Pop()) {
      if (writer_failed_.load()) continue;  // drain; the run is failing
      FileUpdate* u = item->update.get();
      auto take_edges = [&]() -> Status {
        std::vector<Edge> edges;
        if (!item->later->Take(&edges))
          return Status::Internal("the linker stopped before resolving " + u->file.path);
        u->edges.insert(u->edges.end(), std::make_move_iterator(edges.begin()),
                        std::make_move_iterator(edges.end()));
        return Status::OK();
      };
      ExtractionCache* cache = options_.extraction_cache.get();
      std::optional<ExtractionCache::WrittenFile> last;
      if (cache) last = cache->Written(ExtractionCache::FileKey{u->file.crate_key, u->file.path});
      // The fingerprint covers the file's bytes, so an update of other bytes
      // than the last write's (an edit) cannot match it and is not hashed
      // (2 ms for a file of 6,770 items); the file's next write of the same
      // bytes hashes it again.
      const bool fingerprinted = last && last->bytes == u->file.hash;
      ExtractionCache::WrittenFile now{u->file.hash, std::nullopt};
      Status st;
      if (item->later && !fingerprinted) {
        // The node rows are written while the linker resolves the edges.
        st = txn_->BeginFile(*u);
        if (st.ok()) st = take_edges();
        if (st.ok()) st = txn_->FinishFile(*u);
      } else {
        if (item->later) st = take_edges();
        if (st.ok() && fingerprinted) {
          // Written exactly so by the last run: the rows are already this.
          now.fingerprint = UpdateFingerprint(*u);
          if (last->fingerprint == now.fingerprint) continue;
        }
        if (st.ok()) st = txn_->ApplyFile(*u);
      }
      if (cache) written_fingerprints_[{u->file.crate_key, u->file.path}] = now;
      st = st.WithContext("writing " + u->file.path);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(writer_mu_);
        writer_status_ = st;
        writer_failed_.store(true);
      }
    }
  });
}

Status Indexer::StopWriter() {
  write_queue_.Close();
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lock(writer_mu_);
  return writer_status_;
}

Status Indexer::Write(FileUpdate update) {
  if (writer_failed_.load()) {
    std::lock_guard<std::mutex> lock(writer_mu_);
    return writer_status_;
  }
  WriteItem item{std::make_shared<FileUpdate>(std::move(update)), nullptr};
  if (!write_queue_.Push(std::move(item))) return Status::Internal("the writer has stopped");
  return Status::OK();
}

Status Indexer::WriteLater(std::shared_ptr<FileUpdate> update, std::shared_ptr<EdgesLater> later) {
  if (writer_failed_.load()) {
    std::lock_guard<std::mutex> lock(writer_mu_);
    return writer_status_;
  }
  if (!write_queue_.Push(WriteItem{std::move(update), std::move(later)}))
    return Status::Internal("the writer has stopped");
  return Status::OK();
}

void Indexer::LoadPrevious(const std::vector<FileRecord>& files) {
  for (const FileRecord& f : files) {
    previous_hashes_[f.path].push_back(f.hash);
    previous_.emplace(std::make_pair(f.crate_key, f.path), f);
  }
}

Status Indexer::Plan(const Workspace& ws) {
  std::set<std::string> used_keys;
  for (const Package& pkg : ws.packages) packages_.push_back(std::make_unique<Package>(pkg));
  for (const auto& pkg : packages_) {
    PackagePlan plan;
    plan.package = pkg.get();
    std::set<std::string> lib_names;
    for (const Target& t : pkg->targets)
      if (t.kind == TargetKind::kLib) lib_names.insert(t.crate_name);
    std::set<std::string> files;
    std::set<std::string> dirs;
    for (const Target& t : pkg->targets) {
      if (t.kind == TargetKind::kExample && !options_.include_examples) continue;
      TargetPlan tp;
      tp.package = pkg.get();
      tp.target = t;
      std::string key = t.crate_name;
      if (t.kind == TargetKind::kBin && lib_names.count(t.crate_name)) key += "#bin";
      if (t.kind == TargetKind::kExample) key += "#example";
      if (used_keys.count(key) && !pkg->version.empty()) key += "@" + pkg->version;
      for (int n = 2; used_keys.count(key); ++n)
        key = tp.target.crate_name + "#" + std::to_string(n);
      used_keys.insert(key);
      tp.crate_key = key;
      plan.targets.push_back(tp);
      std::string dir = t.kind == TargetKind::kPlainDirectory
                            ? t.root_file
                            : fs::path(t.root_file).parent_path().string();
      dirs.insert(dir);
    }
    for (const std::string& d : dirs) {
      const std::vector<std::string>* listed = nullptr;
      if (memo_) {
        auto it = memo_->dir_files.find(d);
        if (it != memo_->dir_files.end()) listed = &it->second;
      }
      std::vector<std::string> fresh;
      if (!listed) {
        fresh = ListRustFiles(d, &report_.warnings);
        listed = &fresh;
      }
      if (scan_) scan_->dir_files[d] = *listed;
      files.insert(listed->begin(), listed->end());
    }
    plan.files.assign(files.begin(), files.end());
    plans_.push_back(std::move(plan));
  }
  // Dependencies first: a crate's workspace dependencies are then linked
  // before it, and need no second pass over their files.
  std::multimap<std::string, size_t> by_name;
  for (size_t i = 0; i < plans_.size(); ++i) by_name.emplace(plans_[i].package->name, i);
  std::vector<int> state(plans_.size(), 0);  // 0 new, 1 in progress, 2 placed
  std::vector<PackagePlan> ordered;
  ordered.reserve(plans_.size());
  std::function<void(size_t)> place = [&](size_t i) {
    if (state[i] != 0) return;  // placed, or a cycle: keep the order found
    state[i] = 1;
    for (const auto& [key, package] : plans_[i].package->dependencies) {
      if (by_name.count(package) != 1 || plans_[i].package->inactive.count(key)) continue;
      place(by_name.find(package)->second);
    }
    state[i] = 2;
    ordered.push_back(std::move(plans_[i]));
  };
  for (size_t i = 0; i < plans_.size(); ++i) place(i);
  plans_ = std::move(ordered);
  return Status::OK();
}

FileState Indexer::ReadFile(size_t package, const std::string& abs, RustParser& parser,
                            bool force_parse) const {
  FileState s;
  s.package = package;
  s.abs = abs;
  s.rel = RelativePath(abs, root_);
  // A file its stat shows unchanged since an earlier run read it, with the
  // bytes the store has: not read at all.
  ExtractionCache* cache = options_.extraction_cache.get();
  // A targeted run: a file not named as changed has the bytes the last run
  // read (when the store has them).
  if (memo_ && !force_parse && !changed_.count(abs)) {
    auto known = memo_->files.find(abs);
    auto stored = previous_hashes_.find(s.rel);
    if (known != memo_->files.end() && stored != previous_hashes_.end() &&
        std::find(stored->second.begin(), stored->second.end(), known->second.hash) !=
            stored->second.end()) {
      s.hash = known->second.hash;
      s.size = known->second.size;
      s.source_loaded = false;
      NoteRead(s);
      return s;
    }
  }
  std::optional<ExtractionCache::FileStat> stat;
  if (cache) stat = ExtractionCache::StatFile(abs);
  if (stat && !force_parse && stat->size <= options_.max_file_bytes) {
    if (std::optional<ContentHash> known = cache->KnownHash(abs, *stat)) {
      auto it = previous_hashes_.find(s.rel);
      if (it != previous_hashes_.end() &&
          std::find(it->second.begin(), it->second.end(), *known) != it->second.end()) {
        s.hash = *known;
        s.size = stat->size;
        s.source_loaded = false;
        NoteRead(s);
        return s;
      }
    }
  }
  Result<std::string> data = ReadSourceFile(abs, s.rel, options_.max_file_bytes);
  if (!data.ok()) {
    s.status = data.status();
    return s;
  }
  s.source = std::move(data).value();
  s.size = s.source.size();
  s.hash = HashBytes(s.source);
  NoteRead(s);
  if (stat) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    cache->RememberHash(abs, *stat, s.hash, now);
  }
  if (!force_parse) {
    auto it = previous_hashes_.find(s.rel);
    if (it != previous_hashes_.end() &&
        std::find(it->second.begin(), it->second.end(), s.hash) != it->second.end())
      return s;  // unchanged bytes: parse only if its module context changed
  }
  ExtractInto(s, parser);
  return s;
}

void Indexer::LoadSource(FileState& s) const {
  if (s.source_loaded) return;
  s.source_loaded = true;
  // ReadFile left the bytes out because they were ones the store has
  // (s.hash), as the file's stat or the last run showed; s.extraction, if
  // set already, is of them. Read now, they normally still are.
  Result<std::string> data = ReadSourceFile(s.abs, s.rel, options_.max_file_bytes);
  if (data.ok()) files_read_elsewhere_.fetch_add(1);
  if (data.ok() && HashBytes(*data) == s.hash) {
    s.source = std::move(data).value();
    return;
  }
  // Rewritten or removed since: this run indexes the file as it was, from
  // the store, so that its hash, text and items agree (new bytes under the
  // old items would pass for unchanged from then on). The change that did
  // it starts the next run.
  std::lock_guard<std::mutex> lock(load_mu_);
  Result<std::optional<std::string>> stored = StoredText(s.hash);
  if (stored.ok() && stored->has_value()) {
    s.source = std::move(**stored);
    ++files_changed_meanwhile_;
    return;
  }
  Status why = !stored.ok() ? stored.status()
               : !data.ok() ? data.status()
                            : Status::NotFound("the database has no text for its earlier bytes");
  s.status = why;
  if (load_failure_.ok())
    load_failure_ = why.WithContext(s.rel + " changed while it was being indexed");
}

Result<std::optional<std::string>> Indexer::StoredText(const ContentHash& hash) const {
  if (!reader_) {
    Store::Options o;
    o.read_only = true;
    o.create_if_missing = false;
    FG_ASSIGN_OR_RETURN(reader_, Store::Open(store_.path(), o));
  }
  return reader_->ContentText(hash);
}

void Indexer::NoteRead(const FileState& s) const {
  if (!scan_) return;
  std::lock_guard<std::mutex> lock(scan_mu_);
  scan_->files[s.abs] = ScanMemo::Read{s.hash, s.size};
}

bool Indexer::StartFromScan(const ScanMemo& last) {
  for (const std::string& p : *options_.changed_paths) {
    fs::path path(p);
    std::string abs =
        (path.is_absolute() ? path : fs::path(root_) / path).lexically_normal().string();
    // Created, deleted or not a file the last run read (a manifest, a
    // directory): where `mod`s lead, or the packages, may have changed.
    std::error_code ec;
    if (!last.files.count(abs) || !fs::is_regular_file(abs, ec)) {
      changed_.clear();
      return false;
    }
    changed_.insert(std::move(abs));
  }
  return true;
}

void Indexer::ExtractInto(FileState& s, RustParser& parser) const {
  ExtractionCache* cache = options_.extraction_cache.get();
  if (cache) {
    if (std::shared_ptr<const FileExtraction> hit = cache->Get(s.hash)) {
      s.extraction = std::move(hit);
      s.parsed = true;
      return;
    }
  }
  LoadSource(s);
  s.parsed = true;
  if (!cache) {
    s.extraction = std::make_shared<const FileExtraction>(ParseAndExtract(s.source, parser));
    return;
  }
  // A file is re-parsed and re-extracted from its last tree and extraction
  // when this engine kept them: only around the edit. They are kept for the
  // files being edited (the store has an earlier version) and for large
  // files, whose whole parse is what an edit would wait for.
  std::optional<ExtractionCache::KeptTree> old = cache->TakeTree(s.abs);
  std::vector<TSRange> changed;
  Result<SyntaxTree> tree =
      old ? parser.Reparse(s.source, old->source, old->tree, &changed) : parser.Parse(s.source);
  // One extraction shared by the kept tree, the content cache and the run.
  std::shared_ptr<const FileExtraction> extraction;
  if (tree.ok()) {
    extraction = std::make_shared<const FileExtraction>(
        old ? ExtractEdited(s.source, *tree, parser, old->source, *old->extraction, changed)
            : ExtractFile(s.source, *tree, parser));
    if (old || previous_hashes_.count(s.rel) || s.size >= kKeepTreeBytes)
      cache->KeepTree(s.abs, ExtractionCache::KeptTree{s.source, std::move(*tree), extraction});
  } else {
    FileExtraction failed;
    failed.diagnostics.push_back(Diagnostic{1, 1, tree.status().message()});
    extraction = std::make_shared<const FileExtraction>(std::move(failed));
  }
  s.extraction = extraction;
  cache->Put(s.hash, std::move(extraction), s.size);
}

void Indexer::Progress(bool force) {
  if (!options_.on_progress) return;
  uint64_t now = SystemClock()->MonotonicNanos();
  if (!force && now - last_progress_ns_ < 100'000'000) return;
  last_progress_ns_ = now;
  options_.on_progress(progress_);
}

Status Indexer::WriteCrateOnly(const TargetPlan& target) {
  FileUpdate u;
  u.file.crate_key = target.crate_key;
  u.file.path = ".";
  u.file.module_path = target.target.crate_name;
  u.file.hash = HashBytes(target.target.crate_name);
  u.file.mods_json = "[]";
  u.text = target.target.crate_name;  // the bytes the pseudo file's hash is of
  Node crate;
  crate.kind = NodeKind::kCrate;
  crate.name = target.target.crate_name;
  crate.path = target.target.crate_name;
  crate.crate_name = target.target.crate_name;
  crate.file = ".";
  crate.id = MakeNodeId(target.crate_key, crate.path, NodeKind::kCrate, 0);
  crate.visibility = Visibility::kPublic;
  crate.signature = "crate " + crate.name;
  crate.content_hash = u.file.hash;
  u.nodes.push_back(std::move(crate));
  files_reached_.insert({target.crate_key, "."});
  return Write(std::move(u));
}

namespace {

bool IsContainerKind(NodeKind k) {
  return k == NodeKind::kCrate || k == NodeKind::kModule || k == NodeKind::kImpl ||
         k == NodeKind::kTrait;
}

// Containers (a file's module or crate root, inline modules, impls, traits)
// hash their own syntax (header, docs, attributes), not their items' text:
// editing one method changes that method, not its impl and module; adding,
// removing or reordering items changes the containment edges only.
void HashContainersOwnContent(std::vector<Node>* nodes) {
  for (Node& n : *nodes) {
    if (!IsContainerKind(n.kind)) continue;
    Blake3Hasher h;
    h.UpdateField("ferrograph container v1");
    h.UpdateField(KindName(n.kind));
    h.UpdateField(n.signature);
    h.UpdateField(n.docs);
    for (const std::string& a : n.attrs) h.UpdateField(a);
    n.content_hash = h.Finalize();
  }
}

}  // namespace

FileUpdate Indexer::BuildFile(const TargetPlan& target, const ModuleContext& ctx, FileState& state,
                              std::vector<ModRef>* mods, bool quiet) {
  const std::string& key = target.crate_key;
  const std::string& crate_name = target.target.crate_name;
  const FileExtraction& ex = *state.extraction;
  LoadSource(state);

  FileUpdate u;
  u.file.crate_key = key;
  u.file.path = state.rel;
  u.file.module_path = ctx.module_path;
  u.file.like_mod_rs = ctx.like_mod_rs;
  u.file.module_disambiguator = ctx.disambiguator;
  u.file.hash = state.hash;
  u.file.size = state.size;
  u.text = state.source;

  // The node the file's top-level items belong to.
  NodeId module_id = ctx.is_crate_root
                         ? MakeNodeId(key, crate_name, NodeKind::kCrate, 0)
                         : MakeNodeId(key, ctx.module_path, NodeKind::kModule, ctx.disambiguator);
  Span whole{0, static_cast<uint32_t>(state.source.size()), 1,
             static_cast<uint32_t>(1 + std::count(state.source.begin(), state.source.end(), '\n'))};
  if (ctx.is_crate_root || ctx.synthesized) {
    Node m;
    m.kind = ctx.is_crate_root ? NodeKind::kCrate : NodeKind::kModule;
    m.name = ctx.is_crate_root ? crate_name : LastSegment(ctx.module_path);
    m.path = ctx.module_path;
    m.crate_name = crate_name;
    m.file = state.rel;
    m.id = module_id;
    m.span = whole;
    m.visibility = Visibility::kPublic;
    m.signature = (ctx.is_crate_root ? "crate " : "mod ") + m.name;
    m.docs = ex.module_docs;
    m.attrs = ex.module_attrs;
    m.cfgs = CfgPredicates(ex.module_attrs);
    m.content_hash = state.hash;
    // A plain-directory module no `mod` declares hangs off the crate.
    if (!ctx.is_crate_root) m.parent = MakeNodeId(key, crate_name, NodeKind::kCrate, 0);
    u.nodes.push_back(std::move(m));
  }

  std::vector<std::string> file_cfgs = CfgPredicates(ex.module_attrs);
  std::vector<NodeId> ids(ex.items.size());
  std::vector<uint32_t> disambiguators(ex.items.size());
  // Built in place: u.nodes does not grow past this, so the paths the
  // occurrence counts look at stay where they are.
  u.nodes.reserve(u.nodes.size() + ex.items.size());
  std::unordered_map<std::pair<std::string_view, NodeKind>, uint32_t, PathKindHash> occurrences;
  occurrences.reserve(ex.items.size());
  for (size_t i = 0; i < ex.items.size(); ++i) {
    const ExtractedItem& item = ex.items[i];
    Node& n = u.nodes.emplace_back();
    n.kind = item.kind;
    n.name = item.name;
    n.path = Join(ctx.module_path, item.rel_path);
    uint32_t occ = occurrences[{std::string_view(n.path), n.kind}]++;
    bool nested = item.parent >= 0 && static_cast<size_t>(item.parent) < i;
    uint32_t d = ChildDisambiguator(nested ? disambiguators[item.parent] : ctx.disambiguator, occ);
    disambiguators[i] = d;
    n.id = MakeNodeId(key, n.path, n.kind, d);
    ids[i] = n.id;
    n.crate_name = crate_name;
    n.file = state.rel;
    n.span = item.span;
    n.visibility = item.visibility;
    n.signature = item.signature;
    n.docs = item.docs;
    n.cfgs = item.cfgs;
    // A file's inner `#![cfg(..)]` holds for everything in it.
    if (item.parent < 0 && !file_cfgs.empty())
      n.cfgs.insert(n.cfgs.begin(), file_cfgs.begin(), file_cfgs.end());
    n.derives = item.derives;
    n.attrs = item.attrs;
    n.in_macro = item.in_macro;
    n.content_hash = item.content_hash;
    n.parent =
        item.parent >= 0 && static_cast<size_t>(item.parent) < i ? ids[item.parent] : module_id;
  }

  HashContainersOwnContent(&u.nodes);

  mods->clear();
  for (const ModDecl& md : ex.mods) {
    if (md.item < 0 || static_cast<size_t>(md.item) >= ex.items.size()) continue;
    ModRef m;
    m.name = md.name;
    m.path_attr = md.path_attr;
    for (const InlineModule& im : md.enclosing) m.enclosing.emplace_back(im.name, im.path_attr);
    m.rel = ex.items[md.item].rel_path;
    m.disambiguator = disambiguators[md.item];
    m.line = ex.items[md.item].span.start_line;
    mods->push_back(std::move(m));
  }
  u.file.mods_json = ModsToJson(*mods);

  int shown = 0;
  for (const Diagnostic& d : quiet ? std::vector<Diagnostic>() : ex.diagnostics) {
    if (shown++ == kMaxDiagnosticsPerFile) {
      AddWarning(state.rel + ": " + std::to_string(ex.diagnostics.size() - kMaxDiagnosticsPerFile) +
                 " more syntax errors");
      break;
    }
    AddWarning(state.rel + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " +
               d.message);
  }
  return u;
}

namespace {

std::string CrateIdent(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

}  // namespace

std::optional<FileUpdate> Indexer::ResolveCrate(const TargetPlan& target,
                                                std::vector<CrateFile>& files, int depth) {
  const std::string& key = target.crate_key;
  const std::string& crate_name = target.target.crate_name;
  LinkInput input;
  input.crate_key = key;
  input.crate_name = crate_name;
  input.crate_id = MakeNodeId(key, crate_name, NodeKind::kCrate, 0);
  input.edition_2015 = target.package->edition == "2015";
  // The build modelled: the host's cfgs and the package's default features.
  CfgSet cfg = CfgSet::HostDefault();
  for (const std::string& f : target.package->features) cfg.AddFeature(f);
  for (const std::string& c : target.package->build_cfgs) cfg.Set(c);
  input.cfg = &cfg;
  for (const auto& [dep_key, pkg_name] : target.package->dependencies) {
    // `core`, `alloc` and `std` always name the sysroot crates; a Cargo
    // dependency under such a key is the rustc-std-workspace shim that only
    // building std itself enables (hashbrown, memchr).
    if (dep_key == "core" || dep_key == "alloc" || dep_key == "std") continue;
    CrateDependency d;
    d.name = CrateIdent(dep_key);
    d.external_name = CrateIdent(pkg_name);
    // A crate of the workspace resolves into its items; one the library is
    // not built with (a dev-dependency, which may depend back on this
    // package, or an optional one left off) stays external.
    if (target.package->inactive.count(dep_key)) {
      input.dependencies.push_back(std::move(d));
      continue;
    }
    if (std::shared_ptr<const LinkedCrate> dep = LinkedLibOf(pkg_name, depth)) {
      d.crate = ResolverOf(*dep);
      input.linked_dependencies.push_back(dep);
    }
    input.dependencies.push_back(std::move(d));
  }
  if (target.target.kind != TargetKind::kLib) {
    for (const Target& t : target.package->targets) {
      if (t.kind == TargetKind::kLib && t.crate_name != crate_name) {
        CrateDependency d;
        d.name = t.crate_name;
        if (std::shared_ptr<const LinkedCrate> lib = LinkedLibOf(target.package->name, depth)) {
          d.crate = ResolverOf(*lib);
          input.linked_dependencies.push_back(lib);
        }
        input.dependencies.push_back(std::move(d));
      }
    }
  }

  std::vector<LinkFile> link(files.size());
  for (size_t f = 0; f < files.size(); ++f) {
    CrateFile& cf = files[f];
    const FileUpdate& u = cf.update;
    size_t offset = (cf.ctx.is_crate_root || cf.ctx.synthesized) ? 1 : 0;
    LinkFile& lf = link[f];
    lf.path = u.file.path;
    lf.module_path = cf.ctx.module_path;
    lf.module_id = cf.ctx.is_crate_root ? input.crate_id
                                        : MakeNodeId(key, cf.ctx.module_path, NodeKind::kModule,
                                                     cf.ctx.disambiguator);
    lf.is_crate_root = cf.ctx.is_crate_root;
    lf.synthesized = cf.ctx.synthesized;
    lf.extraction = cf.extraction.get();
    lf.shared_extraction = cf.extraction;
    lf.nodes = std::span<const Node>(u.nodes).subspan(offset, cf.extraction->items.size());
  }
  LinkResult linked;
  if (options_.extraction_cache) {
    uint64_t bytes = 0;
    for (const CrateFile& cf : files) bytes += cf.update.file.size;
    KeepLink(key, LiveCrateLink::Link(input, link, &linked), bytes);
  } else {
    linked = LinkCrate(input, link);
  }
  if (target.target.kind == TargetKind::kLib) linked_libs_[key] = linked.linked;
  for (size_t f = 0; f < files.size(); ++f) {
    std::vector<Edge>& edges = files[f].update.edges;
    edges.insert(edges.end(), std::make_move_iterator(link[f].edges.begin()),
                 std::make_move_iterator(link[f].edges.end()));
  }
  report_.links += linked.stats;

  if (linked.externals.empty()) return std::nullopt;
  return ExternalsUpdate(target, std::move(linked.externals));
}

FileUpdate Indexer::ExternalsUpdate(const TargetPlan& target, std::vector<Node> externals) const {
  FileUpdate u;
  u.file.crate_key = target.crate_key;
  u.file.path = kExternalFile;
  u.file.module_path = target.target.crate_name;
  u.file.mods_json = "[]";
  for (Node& n : externals) {
    n.file = kExternalFile;
    u.text += n.path;
    u.text.push_back('\n');
    u.nodes.push_back(std::move(n));
  }
  u.file.hash = HashBytes(u.text);
  u.file.size = u.text.size();
  return u;
}

std::shared_ptr<LiveCrateLink> Indexer::KeptLinkOf(const std::string& crate_key) {
  std::lock_guard<std::mutex> lock(links_mu_);
  auto it = links_.find(crate_key);
  if (it == links_.end()) return nullptr;
  it->second.last_used = run_number_;
  return it->second.link;
}

void Indexer::KeepLink(const std::string& crate_key, std::unique_ptr<LiveCrateLink> link,
                       uint64_t bytes) {
  std::lock_guard<std::mutex> lock(links_mu_);
  KeptLink& kept = links_[crate_key];
  kept.link = std::move(link);
  kept.bytes = bytes;
  kept.last_used = run_number_;
}

Result<bool> Indexer::TryRelink(const TargetPlan& target, std::vector<WalkedFile>& walked) {
  std::shared_ptr<LiveCrateLink> link = KeptLinkOf(target.crate_key);
  if (!link || link->file_count() != walked.size()) return false;
  std::vector<size_t> changed;
  for (size_t i = 0; i < walked.size(); ++i) {
    const WalkedFile& wf = walked[i];
    if (link->path(i) != wf.state->rel || link->module_path(i) != wf.ctx.module_path) return false;
    if (wf.unchanged) continue;
    const FileExtraction& ex = *wf.state->extraction;
    const std::vector<Node>& nodes = wf.update->nodes;
    size_t offset = (wf.ctx.is_crate_root || wf.ctx.synthesized) ? 1 : 0;
    if (nodes.size() != offset + ex.items.size()) return false;
    if (LinkInterface(ex, std::span<const Node>(nodes).subspan(offset)) != link->interface(i))
      return false;
    changed.push_back(i);
  }
  if (changed.empty()) return false;
  LinkJob job;
  job.target = &target;
  job.relink = changed;
  for (size_t i : changed) {
    WalkedFile& wf = walked[i];
    CrateFile cf;
    cf.ctx = wf.ctx;
    cf.extraction = wf.state->extraction;
    cf.update = std::move(*wf.update);
    job.files.push_back(std::move(cf));
  }
  files_reached_.insert({target.crate_key, kExternalFile});
  ++report_.crates_relinked_by_file;
  if (linker_failed_.load()) {
    Status st = StopLinker();
    return st.ok() ? Status::Internal("the linker has stopped") : st;
  }
  if (!link_queue_.Push(std::move(job))) return Status::Internal("the linker has stopped");
  return true;
}

Status Indexer::RelinkAndWrite(LinkJob& job) {
  const TargetPlan& target = *job.target;
  const std::string& key = target.crate_key;
  const uint64_t start = SystemClock()->MonotonicNanos();
  std::shared_ptr<LiveCrateLink> link = KeptLinkOf(key);
  if (!link) return Status::Internal("the kept link of " + key + " is gone");
  // Each file goes to the writer before it is relinked: the writer writes
  // its node rows meanwhile, then its edges (a large file's node diff and
  // its relinking take milliseconds each).
  for (size_t j = 0; j < job.files.size(); ++j) {
    CrateFile& cf = job.files[j];
    size_t offset = (cf.ctx.is_crate_root || cf.ctx.synthesized) ? 1 : 0;
    auto update = std::make_shared<FileUpdate>(std::move(cf.update));
    auto later = std::make_shared<EdgesLater>();
    // Failed unless set below: the writer never waits for edges that
    // will not come.
    std::unique_ptr<EdgesLater, void (*)(EdgesLater*)> fail_unless_set(
        later.get(), [](EdgesLater* l) { l->Fail(); });
    const std::string path = update->file.path;
    FG_RETURN_IF_ERROR(WriteLater(update, later).WithContext("writing " + path));
    std::vector<Edge> edges;
    link->Relink(job.relink[j], cf.extraction, std::span<const Node>(update->nodes).subspan(offset),
                 &edges);
    later->Set(std::move(edges));
    fail_unless_set.release();
  }
  if (target.target.kind == TargetKind::kLib) linked_libs_[key] = link->linked();
  report_.links += link->stats();
  FileUpdate externals = ExternalsUpdate(target, link->Externals());
  report_.resolve_seconds += static_cast<double>(SystemClock()->MonotonicNanos() - start) / 1e9;
  report_.files_relinked += static_cast<int64_t>(job.files.size());
  // The external nodes' pseudo file holds their paths: unchanged text,
  // unchanged nodes.
  auto prev = previous_.find({key, kExternalFile});
  if (prev != previous_.end() && prev->second.hash == externals.file.hash) return Status::OK();
  if (prev == previous_.end() && externals.nodes.empty()) return Status::OK();
  return Write(std::move(externals));
}

Status Indexer::LinkAndWrite(LinkJob& job) {
  if (!job.relink.empty()) return RelinkAndWrite(job);
  const TargetPlan& target = *job.target;
  const uint64_t start = SystemClock()->MonotonicNanos();
  std::optional<FileUpdate> externals = ResolveCrate(target, job.files);
  report_.resolve_seconds += static_cast<double>(SystemClock()->MonotonicNanos() - start) / 1e9;
  for (CrateFile& cf : job.files) {
    std::string path = cf.update.file.path;
    FG_RETURN_IF_ERROR(Write(std::move(cf.update)).WithContext("writing " + path));
  }
  if (!externals) {
    // No external node (any more): an empty pseudo file closes earlier ones.
    if (!previous_.count({target.crate_key, kExternalFile})) return Status::OK();
    FileUpdate u;
    u.file.crate_key = target.crate_key;
    u.file.path = kExternalFile;
    u.file.module_path = target.target.crate_name;
    u.file.mods_json = "[]";
    u.file.hash = HashBytes(u.text);
    externals = std::move(u);
  }
  return Write(std::move(*externals));
}

void Indexer::StartLinker() {
  linker_ = std::thread([this] {
    while (std::optional<LinkJob> job = link_queue_.Pop()) {
      if (linker_failed_.load()) continue;  // drain; the run is failing
      Status st = LinkAndWrite(*job).WithContext("linking crate " + job->target->target.crate_name);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(linker_mu_);
        linker_status_ = st;
        linker_failed_.store(true);
      }
    }
  });
}

Status Indexer::StopLinker() {
  link_queue_.Close();
  if (linker_.joinable()) linker_.join();
  std::lock_guard<std::mutex> lock(linker_mu_);
  return linker_status_;
}

std::shared_ptr<const LinkedCrate> Indexer::LinkedLibOf(const std::string& package_name,
                                                        int depth) {
  const TargetPlan* lib = nullptr;
  int packages = 0;
  for (const PackagePlan& plan : plans_) {
    if (plan.package->name != package_name) continue;
    ++packages;
    for (const TargetPlan& t : plan.targets)
      if (t.target.kind == TargetKind::kLib) lib = &t;
  }
  if (packages != 1 || lib == nullptr) return nullptr;
  auto it = linked_libs_.find(lib->crate_key);
  if (it != linked_libs_.end()) return it->second;
  // Unchanged in this run (else its job would have set linked_libs_): as
  // kept from the last run.
  if (std::shared_ptr<LiveCrateLink> kept = KeptLinkOf(lib->crate_key)) {
    std::shared_ptr<const LinkedCrate> linked = kept->linked();
    linked_libs_[lib->crate_key] = linked;
    return linked;
  }
  // Dependency chains are short; a cycle (or a pathological chain) ends here.
  if (depth >= 8) return nullptr;
  std::shared_ptr<const LinkedCrate> linked = LinkUnchangedLib(*lib, depth + 1);
  linked_libs_[lib->crate_key] = linked;
  return linked;
}

std::shared_ptr<const LinkedCrate> Indexer::LinkUnchangedLib(const TargetPlan& target, int depth) {
  // Walks the library's module tree from its files on disk, as ProcessTarget
  // does, but writes nothing and reports nothing: only the resolver needs it.
  const std::string& key = target.crate_key;
  if (target.target.kind != TargetKind::kLib || target.target.root_file.empty()) return nullptr;
  linked_libs_[key] = nullptr;  // a dependency cycle sees no library
  std::deque<std::pair<std::string, ModuleContext>> pending;
  pending.emplace_back(target.target.root_file,
                       ModuleContext{target.target.crate_name, true, 0, true, false});
  std::set<std::string> visited;
  std::vector<CrateFile> walked;
  while (!pending.empty()) {
    auto [abs, ctx] = std::move(pending.front());
    pending.pop_front();
    if (!visited.insert(abs).second) continue;
    FileState state = ReadFile(0, abs, link_parser_, /*force_parse=*/true);
    if (!state.status.ok()) continue;
    files_read_elsewhere_.fetch_add(1);
    if (!state.parsed) ExtractInto(state, link_parser_);
    std::vector<ModRef> mods;
    CrateFile cf;
    cf.ctx = ctx;
    cf.update = BuildFile(target, ctx, state, &mods, /*quiet=*/true);
    cf.extraction = std::move(state.extraction);
    walked.push_back(std::move(cf));
    for (const ModRef& m : mods) {
      ModuleFileCandidates c =
          ModuleFileFor(abs, ctx.like_mod_rs, m.enclosing, m.name, m.path_attr);
      std::error_code ec;
      for (const std::string& cand : c.candidates) {
        if (!fs::is_regular_file(cand, ec)) continue;
        bool mod_rs = c.from_path_attr || fs::path(cand).filename() == "mod.rs";
        pending.emplace_back(cand, ModuleContext{Join(ctx.module_path, m.rel), mod_rs,
                                                 m.disambiguator, false, false});
        break;
      }
    }
  }
  const CallResolutionStats links = report_.links;
  const double seconds = report_.resolve_seconds;
  ResolveCrate(target, walked, depth);  // fills linked_libs_[key]; its edges are dropped
  report_.links = links;
  report_.resolve_seconds = seconds;
  return linked_libs_[key];
}

Status Indexer::ProcessTarget(const TargetPlan& target, const PackagePlan& plan,
                              std::unordered_map<std::string, FileState>& states) {
  const std::string& key = target.crate_key;
  const std::string& crate_name = target.target.crate_name;
  crate_keys_seen_.insert(key);
  ++report_.crates;
  progress_.current = crate_name;

  struct Entry {
    std::string abs;
    ModuleContext ctx;
  };
  std::deque<Entry> pending;
  std::set<std::string> visited;
  std::map<std::string, uint32_t> module_paths_used;  // for synthesized modules
  std::vector<WalkedFile> walked;

  bool plain = target.target.kind == TargetKind::kPlainDirectory;
  std::string root_file = target.target.root_file;
  if (plain) {
    root_file.clear();
    std::error_code ec;
    if (fs::is_regular_file(target.target.root_file, ec)) {
      root_file = target.target.root_file;
    } else {
      for (const char* name : {"lib.rs", "main.rs"}) {
        fs::path p = fs::path(target.target.root_file) / name;
        if (fs::is_regular_file(p, ec)) {
          root_file = p.lexically_normal().string();
          break;
        }
      }
    }
  }
  if (!root_file.empty()) {
    Entry e{root_file, ModuleContext{crate_name, true, 0, true, false}};
    pending.push_back(e);
  } else {
    FG_RETURN_IF_ERROR(WriteCrateOnly(target));
  }

  auto walk = [&]() -> Status {
    while (!pending.empty()) {
      Entry entry = std::move(pending.front());
      pending.pop_front();
      if (!visited.insert(entry.abs).second) continue;
      visited_in_package_.insert(entry.abs);
      module_paths_used[entry.ctx.module_path]++;

      auto it = states.find(entry.abs);
      if (it == states.end()) {
        // A file outside the candidate directories (a #[path] module).
        FileState s = ReadFile(0, entry.abs, parser_, /*force_parse=*/false);
        ++report_.files_seen;
        if (s.source_loaded && s.status.ok()) files_read_elsewhere_.fetch_add(1);
        if (!s.status.ok()) {
          ++report_.files_failed;
          AddWarning(s.status.message());
        }
        it = states.emplace(entry.abs, std::move(s)).first;
      }
      FileState& state = it->second;
      if (!state.status.ok()) continue;
      files_reached_.insert({key, state.rel});

      auto prev = previous_.find({key, state.rel});
      bool unchanged = prev != previous_.end() && prev->second.hash == state.hash &&
                       prev->second.module_path == entry.ctx.module_path &&
                       prev->second.like_mod_rs == entry.ctx.like_mod_rs &&
                       prev->second.module_disambiguator == entry.ctx.disambiguator;
      std::vector<ModRef> mods;
      WalkedFile wf;
      wf.state = &state;
      wf.ctx = entry.ctx;
      wf.unchanged = unchanged;
      if (unchanged) {
        mods = ModsFromJson(prev->second.mods_json);
      } else {
        if (!state.parsed) ExtractInto(state, parser_);
        wf.update = BuildFile(target, entry.ctx, state, &mods);
      }
      walked.push_back(std::move(wf));
      for (const ModRef& m : mods) {
        std::string mod_key;  // the memo's key, with a scan to keep (scan_)
        if (scan_)
          mod_key =
              ScanMemo::ModKey(entry.abs, entry.ctx.like_mod_rs, m.enclosing, m.name, m.path_attr);
        const ScanMemo::ModFile* known = nullptr;
        if (memo_) {
          auto memo_it = memo_->mod_files.find(mod_key);
          if (memo_it != memo_->mod_files.end()) known = &memo_it->second;
        }
        ScanMemo::ModFile to;
        if (known) {
          to = *known;  // no file was created or deleted since
        } else {
          ModuleFileCandidates c =
              ModuleFileFor(entry.abs, entry.ctx.like_mod_rs, m.enclosing, m.name, m.path_attr);
          std::error_code ec;
          for (const std::string& cand : c.candidates) {
            if (fs::is_regular_file(cand, ec)) {
              to.path = cand;
              break;
            }
          }
          if (to.path.empty()) {
            std::string tried;
            for (const std::string& cand : c.candidates)
              tried += (tried.empty() ? "" : ", ") + RelativePath(cand, root_);
            AddWarning(state.rel + ":" + std::to_string(m.line) + ": file for module `" + m.name +
                       "` not found (tried " + tried + ")");
            continue;
          }
          to.mod_rs = c.from_path_attr || fs::path(to.path).filename() == "mod.rs";
        }
        if (scan_) scan_->mod_files[mod_key] = to;
        const std::string& found = to.path;
        const bool mod_rs = to.mod_rs;
        pending.push_back(Entry{found, ModuleContext{Join(entry.ctx.module_path, m.rel), mod_rs,
                                                     m.disambiguator, false, false}});
      }
    }
    return Status::OK();
  };
  FG_RETURN_IF_ERROR(walk());

  if (plain) {
    // Files no `mod` declaration reached become modules named by their path.
    for (const std::string& abs : plan.files) {
      if (visited.count(abs)) continue;
      fs::path rel = fs::path(abs).lexically_relative(target.target.root_file);
      std::string module_path = crate_name;
      bool mod_rs = rel.filename() == "mod.rs";
      fs::path logical = mod_rs ? rel.parent_path() : rel.parent_path() / rel.stem();
      for (const auto& part : logical) {
        std::string seg = part.string();
        std::replace(seg.begin(), seg.end(), '-', '_');
        std::replace(seg.begin(), seg.end(), '.', '_');
        if (!seg.empty()) module_path += "::" + seg;
      }
      uint32_t d = module_paths_used[module_path]++;
      pending.push_back(Entry{abs, ModuleContext{module_path, mod_rs, d, false, true}});
      FG_RETURN_IF_ERROR(walk());
    }
  }

  // Crate-level granularity: when any file of the crate changed (or one is
  // gone), every file is re-extracted so that the resolver sees the whole
  // crate; an untouched crate is left alone.
  bool files_changed = false;
  for (const WalkedFile& wf : walked) files_changed = files_changed || !wf.unchanged;
  bool files_gone = false;
  for (auto it = previous_.lower_bound({key, ""}); it != previous_.end() && it->first.first == key;
       ++it) {
    const std::string& rel = it->first.second;
    if (rel != "." && rel != kExternalFile && !files_reached_.count(it->first)) files_gone = true;
  }
  // A workspace library it is built with was resolved again (its interface
  // may have changed): its edges into that library are resolved again too.
  bool deps_relinked = relink_all_;
  if (options_.resolve) {
    if (target.target.kind != TargetKind::kLib && relinked_packages_.count(target.package->name))
      deps_relinked = true;
    for (const auto& [dep_key, pkg_name] : target.package->dependencies)
      if (!target.package->inactive.count(dep_key) && relinked_packages_.count(pkg_name))
        deps_relinked = true;
  }
  const bool changed = files_changed || files_gone || deps_relinked;
  bool relinked = false;  // bodies, docs or lines changed only: those files relinked
  if (changed && options_.resolve && !files_gone && !deps_relinked) {
    FG_ASSIGN_OR_RETURN(relinked, TryRelink(target, walked));
  }
  if (!changed) {
    if (previous_.count({key, kExternalFile})) files_reached_.insert({key, kExternalFile});
  } else if (!relinked) {
    if (target.target.kind == TargetKind::kLib) relinked_packages_.insert(target.package->name);
    for (WalkedFile& wf : walked) {
      if (wf.update) continue;
      FileState& state = *wf.state;
      if (!state.parsed) ExtractInto(state, parser_);
      std::vector<ModRef> ignored;
      wf.update = BuildFile(target, wf.ctx, state, &ignored);
    }
    if (!options_.resolve) {
      for (WalkedFile& wf : walked)
        FG_RETURN_IF_ERROR(Write(std::move(*wf.update)).WithContext("writing " + wf.state->rel));
    } else {
      // The linker thread resolves the crate and writes it, while this
      // thread walks the next one.
      files_reached_.insert({key, kExternalFile});
      LinkJob job;
      job.target = &target;
      job.files.reserve(walked.size());
      for (WalkedFile& wf : walked) {
        CrateFile cf;
        cf.ctx = wf.ctx;
        cf.extraction = wf.state->extraction;
        cf.update = std::move(*wf.update);
        job.files.push_back(std::move(cf));
      }
      if (linker_failed_.load()) return StopLinker();
      if (!link_queue_.Push(std::move(job))) return Status::Internal("the linker has stopped");
    }
  }
  // Another crate of the package sharing a file (a lib and a bin both
  // declaring it) uses the same extraction.
  return Status::OK();
}

Status Indexer::ProcessPackage(PackagePlan& plan,
                               std::unordered_map<std::string, FileState>& states) {
  visited_in_package_.clear();
  for (const TargetPlan& t : plan.targets) {
    FG_RETURN_IF_ERROR(
        ProcessTarget(t, plan, states).WithContext("indexing crate " + t.target.crate_name));
  }
  // Files in the crates' directories that no module tree reaches (dead files,
  // `include!`d fragments) are remembered by hash only, so that the next run
  // does not parse them again.
  for (const std::string& abs : plan.files) {
    if (visited_in_package_.count(abs)) continue;
    auto it = states.find(abs);
    if (it == states.end() || !it->second.status.ok()) continue;
    LoadSource(it->second);
    FileUpdate u;
    u.file.crate_key = kUnreachedFilesCrate;
    u.file.path = it->second.rel;
    u.file.hash = it->second.hash;
    u.file.size = it->second.size;
    u.file.mods_json = "[]";
    u.text = it->second.source;
    files_reached_.insert({u.file.crate_key, u.file.path});
    FG_RETURN_IF_ERROR(Write(std::move(u)));
  }
  return Status::OK();
}

Result<IndexReport> Indexer::Run() {
  uint64_t start = SystemClock()->MonotonicNanos();
  report_.root = root_;
  report_.db_path = store_.path();

  if (ExtractionCache* cache = options_.extraction_cache.get()) {
    // Taken out whatever happens: a run that fails leaves no scan behind.
    std::shared_ptr<const ScanMemo> last = cache->TakeScan(root_);
    if (last && options_.changed_paths && StartFromScan(*last)) memo_ = std::move(last);
    scan_ = std::make_shared<ScanMemo>();
    scan_->root = root_;
  }
  report_.targeted = memo_ != nullptr;
  Workspace ws;
  if (memo_) {
    ws = memo_->workspace;
  } else {
    DiscoverOptions dopts;
    dopts.include_examples = options_.include_examples;
    FG_ASSIGN_OR_RETURN(ws, DiscoverWorkspace(root_, dopts));
  }
  if (scan_) scan_->workspace = ws;
  root_ = ws.root;
  std::error_code ec;
  if (fs::is_regular_file(root_, ec)) root_ = fs::path(root_).parent_path().string();
  report_.root = root_;
  for (const std::string& w : ws.warnings) AddWarning(w);

  FG_ASSIGN_OR_RETURN(std::vector<FileRecord> previous, store_.CurrentFiles());
  LoadPrevious(previous);
  // Edges made by another linker (an older ferrograph, or --no-resolve):
  // every crate is resolved again, changed or not.
  FG_ASSIGN_OR_RETURN(std::optional<VersionInfo> latest_version, store_.LatestVersion());
  const int64_t latest_ordinal = latest_version ? latest_version->ordinal : 0;
  if (latest_version) {
    json last = json::parse(latest_version->summary, nullptr, /*allow_exceptions=*/false);
    int64_t link = 1;  // summaries before the "link" key: impls only
    if (last.is_object() && last.contains("link") && last["link"].is_number_integer())
      link = last["link"].get<int64_t>();
    relink_all_ = link != LinkVersion();
  }
  if (options_.extraction_cache) {
    options_.extraction_cache->CheckVersion(latest_ordinal);
    links_ = options_.extraction_cache->TakeLinks(&run_number_);
    // Links made by another linker, or a run without links, keep none.
    if (relink_all_ || !options_.resolve) links_.clear();
  }
  FG_RETURN_IF_ERROR(Plan(ws));
  for (const PackagePlan& p : plans_) progress_.files_total += p.files.size();

  // A long-running indexer (`watch`) keeps its large files' rows between
  // runs, as it keeps their parses.
  FG_ASSIGN_OR_RETURN(txn_, store_.BeginWrite(/*keep_rows=*/options_.keep_parses));
  StartWriter();
  StartLinker();

  int jobs = options_.jobs > 0 ? options_.jobs
                               : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  size_t capacity = std::max<size_t>(options_.queue_capacity, 2);
  BoundedQueue<FileJob> job_queue(capacity);
  BoundedQueue<FileState> result_queue(capacity);

  // A targeted run reads the few files named as changed: on this thread, in
  // plan order, with no pool to start (and what it allocates stays in this
  // thread's heap, which a long-running indexer keeps).
  const bool inline_reads = memo_ != nullptr;
  std::thread feeder;
  std::vector<std::thread> workers;
  if (!inline_reads) {
    feeder = std::thread([&] {
      for (size_t p = 0; p < plans_.size(); ++p)
        for (const std::string& f : plans_[p].files)
          if (!job_queue.Push(FileJob{p, f})) return;
      job_queue.Close();
    });
    for (int w = 0; w < jobs; ++w) {
      workers.emplace_back([&] {
        RustParser parser;
        while (std::optional<FileJob> job = job_queue.Pop()) {
          if (!result_queue.Push(ReadFile(job->package, job->abs, parser, false))) break;
        }
      });
    }
  }
  size_t inline_package = 0, inline_file = 0;
  auto next_result = [&]() -> std::optional<FileState> {
    if (!inline_reads) return result_queue.Pop();
    while (inline_package < plans_.size() && inline_file >= plans_[inline_package].files.size()) {
      ++inline_package;
      inline_file = 0;
    }
    if (inline_package >= plans_.size()) return std::nullopt;
    const std::string& abs = plans_[inline_package].files[inline_file++];
    return ReadFile(inline_package, abs, parser_, false);
  };

  // Consume results; process packages in order as each becomes complete.
  std::vector<std::unordered_map<std::string, FileState>> buckets(plans_.size());
  std::vector<size_t> remaining(plans_.size());
  for (size_t p = 0; p < plans_.size(); ++p) remaining[p] = plans_[p].files.size();
  size_t next = 0;
  Status failure;
  auto drain_ready = [&]() {
    while (failure.ok() && next < plans_.size() && remaining[next] == 0) {
      failure = ProcessPackage(plans_[next], buckets[next]);
      buckets[next].clear();
      ++next;
    }
  };
  drain_ready();
  size_t total = progress_.files_total;
  for (size_t got = 0; got < total && failure.ok(); ++got) {
    std::optional<FileState> r = next_result();
    if (!r) break;
    ++report_.files_seen;
    if (r->source_loaded && r->status.ok()) ++report_.files_read;
    ++progress_.files_done;
    progress_.bytes_done += r->size;
    if (r->parsed) {
      ++report_.files_parsed;
      report_.bytes_parsed += static_cast<int64_t>(r->size);
    }
    if (!r->status.ok()) {
      ++report_.files_failed;
      AddWarning(r->status.message());
    }
    size_t p = r->package;
    std::string abs = r->abs;
    buckets[p].emplace(abs, std::move(*r));
    --remaining[p];
    drain_ready();
    Progress(false);
  }
  // Stop the pipeline (also on failure) and join every thread.
  job_queue.Close();
  result_queue.Close();
  if (feeder.joinable()) feeder.join();
  for (auto& w : workers) w.join();
  if (failure.ok()) drain_ready();
  Status linked = StopLinker();
  Status written = StopWriter();
  FG_RETURN_IF_ERROR(failure);
  FG_RETURN_IF_ERROR(linked);
  FG_RETURN_IF_ERROR(written);
  {
    std::lock_guard<std::mutex> lock(load_mu_);
    FG_RETURN_IF_ERROR(load_failure_);
    report_.files_changed_meanwhile = files_changed_meanwhile_;
    if (files_changed_meanwhile_ > 0)
      AddWarning(std::to_string(files_changed_meanwhile_) +
                 " file(s) changed while this run used them: indexed as they were before; "
                 "the next run takes the change");
    reader_.reset();
  }

  // Files and crates that are gone.
  for (const auto& [k, rec] : previous_) {
    if (files_reached_.count(k)) continue;
    FG_RETURN_IF_ERROR(txn_->RemoveFile(rec.crate_key, rec.path));
    removed_files_.push_back(k);
  }

  report_.files_unchanged = report_.files_seen - report_.files_parsed - report_.files_failed;
  report_.files_read += files_read_elsewhere_.load();
  report_.delta = txn_->stats();
  json summary = {{"root", root_},
                  {"link", LinkVersion()},
                  {"crates", report_.crates},
                  {"files_parsed", report_.files_parsed},
                  {"nodes_added", report_.delta.nodes_added},
                  {"nodes_removed", report_.delta.nodes_removed},
                  {"nodes_changed", report_.delta.nodes_changed},
                  {"nodes_moved", report_.delta.nodes_moved},
                  {"edges_added", report_.delta.edges_added},
                  {"edges_removed", report_.delta.edges_removed},
                  {"edges_moved", report_.delta.edges_moved}};
  FG_ASSIGN_OR_RETURN(report_.version,
                      txn_->Commit(summary.dump(-1, ' ', false, json::error_handler_t::replace)));
  txn_.reset();
  if (options_.extraction_cache) {
    int64_t latest = report_.version ? report_.version->ordinal : latest_ordinal;
    // Crates gone from the workspace keep no link.
    for (auto it = links_.begin(); it != links_.end();)
      it = crate_keys_seen_.count(it->first) ? std::next(it) : links_.erase(it);
    options_.extraction_cache->Committed(written_fingerprints_, removed_files_, latest,
                                         std::move(links_));
  }
  // Give back what the run's buffers held; a long-running indexer
  // (keep_parses) keeps its heap for the next run.
  if (!options_.keep_parses) ReleaseFreeMemory();
  if (scan_) options_.extraction_cache->KeepScan(std::move(scan_));
  Progress(true);
  report_.seconds = static_cast<double>(SystemClock()->MonotonicNanos() - start) / 1e9;
  return std::move(report_);
}

}  // namespace

Result<IndexReport> RunIndex(Store& store, const std::string& root, const IndexOptions& options) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return Status::NotFound(root + ": no such file or directory");
  Indexer indexer(store, fs::absolute(root, ec).lexically_normal().string(), options);
  return indexer.Run().WithContext("indexing " + root);
}

}  // namespace ferrograph
