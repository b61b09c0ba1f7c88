#include "watch/watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "watch/gitignore.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                                IN_EXCL_UNLINK;
constexpr size_t kMinReadBuffer = 64 * 1024;
// Warnings held for one batch; later ones are dropped (a rescan follows them).
constexpr size_t kMaxWarnings = 64;
// How long a directory's IN_MOVED_FROM waits for its IN_MOVED_TO before the
// directory counts as moved out. The kernel queues the two back to back, so
// this only bridges a read() that ended between them.
constexpr int kMovePairWaitMs = 5;
// .gitignore files larger than this are read only this far.
constexpr std::streamsize kMaxGitignoreBytes = 1 << 20;

constexpr char kMaxUserWatches[] = "/proc/sys/fs/inotify/max_user_watches";
constexpr char kMaxUserInstances[] = "/proc/sys/fs/inotify/max_user_instances";

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A directory's identity, whatever path reaches it.
struct DirId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator<(const DirId& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
  bool operator==(const DirId& o) const { return dev == o.dev && ino == o.ino; }
};

std::optional<DirId> StatDir(const std::string& abs) {
  struct stat st;
  if (::stat(abs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  return DirId{st.st_dev, st.st_ino};
}

bool Exists(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string ErrnoText(int err) { return std::error_code(err, std::system_category()).message(); }

std::string Join(std::string_view dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir);
  if (!dir.empty()) out.push_back('/');
  out.append(name);
  return out;
}

std::string ReadProcValue(const char* path) {
  std::ifstream in(path);
  std::string value;
  if (!(in >> value)) return "unknown";
  return value;
}

// The text of a small file; false when it cannot be read (or is not there).
bool ReadSmallFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  text->resize(static_cast<size_t>(kMaxGitignoreBytes));
  in.read(text->data(), kMaxGitignoreBytes);
  text->resize(static_cast<size_t>(in.gcount()));
  return true;
}

}  // namespace

bool IsWatchedFileName(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  return name == "Cargo.toml" || (name.size() > 3 && name.ends_with(".rs"));
}

// ---------------------------------------------------------------------------

class Watcher::Impl {
 public:
  Impl(std::string root, const WatchOptions& options)
      : root_(std::move(root)),
        options_(options),
        max_pending_(std::max<size_t>(1, options.max_pending_paths)) {}

  ~Impl() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }

  // Opens inotify and watches the tree; the caller's thread, before Run.
  Status Init();
  void StartThread() {
    thread_ = std::thread([this] { Run(); });
  }

  Result<WatchBatch> Next(std::chrono::milliseconds timeout);
  void Stop();
  WatchStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  const std::string& root() const { return root_; }

 private:
  struct Dir {
    std::string path;  // relative to the root
    DirId id;
    uint64_t seen = 0;  // the last Sync generation that reached it
  };
  struct MoveFrom {
    uint32_t cookie = 0;
    std::string path;
  };
  enum class Added { kWatching, kSkip };

  // ----- The reader thread's own state and work (Init runs before it).

  void Run();
  void HandleEvent(const inotify_event& ev, std::string_view name);
  void HandleDirEvent(uint32_t mask, uint32_t cookie, const std::string& path,
                      std::string_view name);
  void HandleFileEvent(uint32_t mask, const std::string& dir, const std::string& path,
                       std::string_view name);
  void AfterBuffer();
  // A directory's IN_MOVED_FROM had no IN_MOVED_TO: it left the tree.
  void ResolveMoveOut();
  void RootGone();

  std::string Abs(std::string_view rel) const { return rel.empty() ? root_ : Join(root_, rel); }
  bool SkipDir(const std::string& path, std::string_view name) const;
  bool ReportFile(const std::string& path, std::string_view name) const;

  // Makes the watches beneath `dir` match the tree on disk: watches every
  // directory the rules accept (following moved ones by inode), reloads their
  // .gitignore files, drops watches of directories no longer there, and with
  // `report` reports every file found (and, with `mirror`, the same file under
  // `mirror` instead of `dir`). Fails only on a watch limit.
  Status Sync(const std::string& dir, bool report, const std::string* mirror);
  // Sync, with a failure turned into a warning and a rescan.
  void SyncOrWarn(const std::string& dir, bool report, const std::string* mirror);
  Status Walk(const std::string& dir, bool report, const std::string* mirror);
  Result<Added> AddWatch(const std::string& path, DirId id);
  Added Claim(int wd, const std::string& path, DirId id);
  Status LimitError(const std::string& path, bool own_limit) const;
  void LoadIgnoreFile(const std::string& dir);
  void LoadOuterIgnores();

  std::vector<int> WdsUnder(const std::string& dir) const;
  void Rekey(int wd, const std::string& path);
  void RekeyUnder(const std::string& from, const std::string& to);
  void DropOne(int wd, bool remove_watch);
  void DropUnder(const std::string& dir);
  void Sweep(const std::string& dir);

  // ----- Shared with Next/Stop/stats, under mu_.

  void AddPending(std::string path);
  void SetRescan();
  void AddWarning(std::string message);
  void Publish(uint64_t events);
  void Fail(std::string message);
  void TouchLocked();
  bool HasChangesLocked() const { return !pending_.empty() || rescan_ || !warnings_.empty(); }
  WatchBatch TakeBatchLocked(bool stopped);

  const std::string root_;
  const WatchOptions options_;
  const size_t max_pending_;
  Fd inotify_;
  Fd wake_;  // an eventfd: Stop() writes it to end Run()
  std::thread thread_;

  // The reader thread's (and Init's) only.
  std::unordered_map<int, Dir> dirs_;      // by watch descriptor
  std::map<std::string, int> wd_by_path_;  // sorted: a directory's subtree is a range
  std::map<DirId, int> wd_by_id_;
  GitignoreMatcher ignores_;
  std::optional<MoveFrom> move_from_;
  std::set<std::string> dirty_ignores_;  // directories whose .gitignore changed
  uint64_t generation_ = 0;
  int root_wd_ = -1;
  bool overflowed_ = false;
  bool root_gone_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<std::string> pending_;  // GUARDED_BY(mu_)
  bool rescan_ = false;                      // GUARDED_BY(mu_)
  std::vector<std::string> warnings_;        // GUARDED_BY(mu_)
  SteadyClock::time_point first_change_;     // GUARDED_BY(mu_)
  SteadyClock::time_point last_change_;      // GUARDED_BY(mu_)
  bool stop_ = false;                        // GUARDED_BY(mu_)
  Status thread_error_;                      // GUARDED_BY(mu_)
  WatchStats stats_;                         // GUARDED_BY(mu_)
};

// ----------------------------------------------------------------- set-up

Status Watcher::Impl::Init() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == EMFILE) {
      return Status::IOError("cannot watch " + root_ + ": the inotify instance limit is reached (" +
                             kMaxUserInstances + " = " + ReadProcValue(kMaxUserInstances) +
                             ", shared by every process of this user)");
    }
    return Status::IOError("cannot watch " + root_ + ": inotify_init1: " + ErrnoText(err));
  }
  inotify_.reset(fd);
  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return Status::IOError("cannot watch " + root_ + ": eventfd: " + ErrnoText(errno));
  wake_.reset(wake);

  if (options_.use_gitignore) LoadOuterIgnores();
  FG_RETURN_IF_ERROR(Sync("", /*report=*/false, nullptr));
  auto root = wd_by_path_.find("");
  if (root == wd_by_path_.end()) return Status::IOError("cannot watch " + root_);
  root_wd_ = root->second;
  Publish(0);
  return Status::OK();
}

// The .gitignore files from the root's parent up to the top of the git
// repository holding the root, outermost first; none when the root is the
// top of a repository or in none.
void Watcher::Impl::LoadOuterIgnores() {
  const fs::path root(root_);
  if (Exists(root / ".git")) return;
  std::vector<fs::path> ancestors;
  for (fs::path p = root.parent_path();; p = p.parent_path()) {
    ancestors.push_back(p);
    if (Exists(p / ".git") || p == p.parent_path()) break;
  }
  if (!Exists(ancestors.back() / ".git")) return;
  for (auto it = ancestors.rbegin(); it != ancestors.rend(); ++it) {
    std::string text;
    if (ReadSmallFile((*it / ".gitignore").string(), &text)) {
      ignores_.AddOuterFile(root.lexically_relative(*it).string(), text);
    }
  }
}

// ----------------------------------------------------------------- rules

bool Watcher::Impl::SkipDir(const std::string& path, std::string_view name) const {
  if (name.empty() || name[0] == '.' || name == "target") return true;
  if (options_.use_gitignore && ignores_.IsIgnoredEntry(path, /*is_dir=*/true)) return true;
  return options_.filter && !options_.filter(path, /*is_dir=*/true);
}

bool Watcher::Impl::ReportFile(const std::string& path, std::string_view name) const {
  if (!IsWatchedFileName(name)) return false;
  if (options_.use_gitignore && ignores_.IsIgnoredEntry(path, /*is_dir=*/false)) return false;
  return !options_.filter || options_.filter(path, /*is_dir=*/false);
}

// ----------------------------------------------------------------- watches

Status Watcher::Impl::Sync(const std::string& dir, bool report, const std::string* mirror) {
  ++generation_;
  Status status = Walk(dir, report, mirror);
  // After a failure part of the tree was not visited: keep its watches.
  if (status.ok()) Sweep(dir);
  return status;
}

void Watcher::Impl::SyncOrWarn(const std::string& dir, bool report, const std::string* mirror) {
  Status status = Sync(dir, report, mirror);
  if (!status.ok()) {
    AddWarning(status.message());
    SetRescan();
  }
}

Status Watcher::Impl::Walk(const std::string& dir, bool report, const std::string* mirror) {
  std::vector<std::string> stack{dir};
  std::vector<std::pair<std::string, unsigned char>> entries;
  while (!stack.empty()) {
    const std::string rel = std::move(stack.back());
    stack.pop_back();
    const std::string abs = Abs(rel);
    std::optional<DirId> id = StatDir(abs);
    if (!id) continue;  // gone already
    // Watch first, list second: a file created in between is seen twice
    // rather than never.
    FG_ASSIGN_OR_RETURN(Added added, AddWatch(rel, *id));
    if (added == Added::kSkip) continue;
    if (options_.use_gitignore) LoadIgnoreFile(rel);

    DIR* d = ::opendir(abs.c_str());
    if (d == nullptr) {
      int err = errno;
      if (err != ENOENT && err != ENOTDIR) AddWarning("cannot read " + abs + ": " + ErrnoText(err));
      continue;
    }
    entries.clear();
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;  // ".", "..", and hidden entries
      entries.emplace_back(e->d_name, e->d_type);
    }
    ::closedir(d);
    std::sort(entries.begin(), entries.end());

    const size_t first_child = stack.size();
    for (const auto& [name, type] : entries) {
      std::string child = Join(rel, name);
      bool is_dir = type == DT_DIR;
      bool is_file = type == DT_REG;
      if (type == DT_LNK || type == DT_UNKNOWN) {  // follow symlinks
        struct stat st;
        if (::stat(Abs(child).c_str(), &st) == 0) {
          is_dir = S_ISDIR(st.st_mode);
          is_file = S_ISREG(st.st_mode);
        }
      }
      if (is_dir) {
        if (!SkipDir(child, name)) stack.push_back(std::move(child));
      } else if (is_file && report && ReportFile(child, name)) {
        if (mirror != nullptr)
          AddPending(Join(*mirror, std::string_view(child).substr(dir.size() + 1)));
        AddPending(std::move(child));
      }
    }
    // Directories are entered in name order, so that of two paths reaching
    // one directory the first in name order is the one watched.
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first_child), stack.end());
  }
  return Status::OK();
}

Result<Watcher::Impl::Added> Watcher::Impl::AddWatch(const std::string& path, DirId id) {
  auto known = wd_by_id_.find(id);
  if (known != wd_by_id_.end()) return Claim(known->second, path, id);
  if (options_.max_watched_dirs != 0 && dirs_.size() >= options_.max_watched_dirs) {
    return LimitError(path, /*own_limit=*/true);
  }
  const std::string abs = Abs(path);
  int wd = ::inotify_add_watch(inotify_.get(), abs.c_str(), kWatchMask);
  if (wd < 0) {
    int err = errno;
    if (err == ENOSPC) return LimitError(path, /*own_limit=*/false);
    if (path.empty()) return Status::IOError("cannot watch " + abs + ": " + ErrnoText(err));
    if (err != ENOENT && err != ENOTDIR) AddWarning("cannot watch " + abs + ": " + ErrnoText(err));
    return Added::kSkip;
  }
  if (dirs_.count(wd) != 0) return Claim(wd, path, id);  // the inode changed under our stat
  // A directory that was at `path` before (replaced while events were lost).
  auto stale = wd_by_path_.find(path);
  if (stale != wd_by_path_.end()) DropOne(stale->second, true);
  dirs_[wd] = Dir{path, id, generation_};
  wd_by_path_[path] = wd;
  wd_by_id_[id] = wd;
  return Added::kWatching;
}

// `path` reaches the directory already watched as `wd`.
Watcher::Impl::Added Watcher::Impl::Claim(int wd, const std::string& path, DirId id) {
  Dir& dir = dirs_[wd];
  if (dir.path != path) {
    // Another path reaches it (a symlink, or a loop back up the tree) while
    // the one it is watched through still does: keep that one.
    if (dir.seen == generation_ || StatDir(Abs(dir.path)) == id) return Added::kSkip;
    Rekey(wd, path);  // it moved, and we missed the rename
  }
  if (!(dir.id == id)) {
    wd_by_id_.erase(dir.id);
    dir.id = id;
    wd_by_id_[id] = wd;
  }
  dir.seen = generation_;
  return Added::kWatching;
}

Status Watcher::Impl::LimitError(const std::string& path, bool own_limit) const {
  const std::string kernel = std::string(kMaxUserWatches) + " = " + ReadProcValue(kMaxUserWatches);
  if (own_limit) {
    return Status::IOError("cannot watch " + Abs(path) + ": the limit of " +
                           std::to_string(options_.max_watched_dirs) +
                           " watched directories (WatchOptions::max_watched_dirs) is reached; the "
                           "kernel's limit is " +
                           kernel);
  }
  return Status::IOError("cannot watch " + Abs(path) + ": the inotify watch limit is reached (" +
                         kernel +
                         ", shared by every process of this user); raise it, e.g. `sudo sysctl "
                         "fs.inotify.max_user_watches=524288`");
}

void Watcher::Impl::LoadIgnoreFile(const std::string& dir) {
  std::string text;
  if (ReadSmallFile(Join(Abs(dir), ".gitignore"), &text)) {
    ignores_.SetFile(dir, text);
  } else {
    ignores_.RemoveFile(dir);
  }
}

std::vector<int> Watcher::Impl::WdsUnder(const std::string& dir) const {
  std::vector<int> wds;
  if (dir.empty()) {
    for (const auto& [path, wd] : wd_by_path_) wds.push_back(wd);
    return wds;
  }
  auto it = wd_by_path_.find(dir);
  if (it != wd_by_path_.end()) wds.push_back(it->second);
  const std::string prefix = dir + "/";
  for (it = wd_by_path_.lower_bound(prefix);
       it != wd_by_path_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    wds.push_back(it->second);
  }
  return wds;
}

void Watcher::Impl::Rekey(int wd, const std::string& path) {
  Dir& dir = dirs_[wd];
  auto old = wd_by_path_.find(dir.path);
  if (old != wd_by_path_.end() && old->second == wd) wd_by_path_.erase(old);
  auto stale = wd_by_path_.find(path);
  if (stale != wd_by_path_.end() && stale->second != wd) DropOne(stale->second, true);
  wd_by_path_[path] = wd;
  dir.path = path;
}

void Watcher::Impl::RekeyUnder(const std::string& from, const std::string& to) {
  for (int wd : WdsUnder(to)) DropOne(wd, true);  // stale: `to` did not exist before
  for (int wd : WdsUnder(from)) Rekey(wd, to + dirs_[wd].path.substr(from.size()));
  ignores_.RemoveUnder(from);  // reloaded by the Sync that follows
}

void Watcher::Impl::DropOne(int wd, bool remove_watch) {
  auto it = dirs_.find(wd);
  if (it == dirs_.end()) return;
  auto by_path = wd_by_path_.find(it->second.path);
  if (by_path != wd_by_path_.end() && by_path->second == wd) {
    wd_by_path_.erase(by_path);
    ignores_.RemoveFile(it->second.path);
  }
  auto by_id = wd_by_id_.find(it->second.id);
  if (by_id != wd_by_id_.end() && by_id->second == wd) wd_by_id_.erase(by_id);
  // The kernel answers with IN_IGNORED for `wd`, which is then unknown.
  if (remove_watch) ::inotify_rm_watch(inotify_.get(), wd);
  dirs_.erase(it);
}

void Watcher::Impl::DropUnder(const std::string& dir) {
  for (int wd : WdsUnder(dir)) DropOne(wd, true);
  ignores_.RemoveUnder(dir);
}

void Watcher::Impl::Sweep(const std::string& dir) {
  for (int wd : WdsUnder(dir)) {
    if (dirs_[wd].seen != generation_) DropOne(wd, true);
  }
}

// ----------------------------------------------------------------- events

void Watcher::Impl::Run() {
  std::vector<char> buffer(std::max(options_.read_buffer_bytes, kMinReadBuffer));
  pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    int ready = ::poll(fds, 2, move_from_ ? kMovePairWaitMs : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      Fail("watching " + root_ + ": poll: " + ErrnoText(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // Stop()
    if (ready == 0) {
      ResolveMoveOut();
      AfterBuffer();
      Publish(0);
      continue;
    }
    ssize_t n = ::read(inotify_.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      Fail("watching " + root_ + ": reading inotify events: " + ErrnoText(errno));
      return;
    }
    uint64_t events = 0;
    for (size_t offset = 0; offset + sizeof(inotify_event) <= static_cast<size_t>(n);) {
      inotify_event ev;
      std::memcpy(&ev, buffer.data() + offset, sizeof ev);
      const char* name = buffer.data() + offset + sizeof ev;
      // The name is NUL-padded to its length.
      std::string_view name_view(name, ev.len == 0 ? 0 : ::strnlen(name, ev.len));
      HandleEvent(ev, name_view);
      ++events;
      offset += sizeof ev + ev.len;
    }
    AfterBuffer();
    Publish(events);
  }
}

void Watcher::Impl::HandleEvent(const inotify_event& ev, std::string_view name) {
  if (ev.mask & IN_Q_OVERFLOW) {
    overflowed_ = true;
    return;
  }
  auto it = dirs_.find(ev.wd);
  if (it == dirs_.end()) return;  // a watch already dropped
  if (ev.mask & IN_IGNORED) {     // the kernel removed the watch: the directory is gone
    DropOne(ev.wd, false);
    if (ev.wd == root_wd_) RootGone();
    return;
  }
  if (name.empty()) {  // about the watched directory itself
    if ((ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && ev.wd == root_wd_) RootGone();
    if (ev.mask & IN_UNMOUNT) SetRescan();
    return;
  }
  if (move_from_ && !((ev.mask & IN_MOVED_TO) && ev.cookie == move_from_->cookie)) {
    ResolveMoveOut();
  }
  const std::string dir = it->second.path;  // a copy: the maps may change below
  const std::string path = Join(dir, name);
  if (ev.mask & IN_ISDIR) {
    HandleDirEvent(ev.mask, ev.cookie, path, name);
  } else {
    HandleFileEvent(ev.mask, dir, path, name);
  }
}

void Watcher::Impl::HandleDirEvent(uint32_t mask, uint32_t cookie, const std::string& path,
                                   std::string_view name) {
  if (mask & IN_MOVED_FROM) {
    move_from_ = MoveFrom{cookie, path};
    return;
  }
  if (mask & IN_DELETE) {
    // Its files were reported one by one as they were deleted.
    DropUnder(path);
    return;
  }
  if (!(mask & (IN_CREATE | IN_MOVED_TO))) return;
  std::optional<std::string> from;
  if ((mask & IN_MOVED_TO) && move_from_ && move_from_->cookie == cookie) {
    from = std::move(move_from_->path);
    move_from_.reset();
  }
  const bool skip = SkipDir(path, name);
  if (from && !WdsUnder(*from).empty()) {  // a watched directory renamed
    if (skip) {
      DropUnder(*from);
      SetRescan();
      return;
    }
    // Its watches stay (inotify watches inodes); only their paths change.
    RekeyUnder(*from, path);
    SyncOrWarn(path, /*report=*/true, &*from);
    return;
  }
  if (!skip) SyncOrWarn(path, /*report=*/true, nullptr);  // created, or moved in
}

void Watcher::Impl::HandleFileEvent(uint32_t mask, const std::string& dir, const std::string& path,
                                    std::string_view name) {
  if (name == ".gitignore") {
    if (options_.use_gitignore) dirty_ignores_.insert(dir);
    return;
  }
  if ((mask & (IN_DELETE | IN_MOVED_FROM)) && wd_by_path_.count(path) != 0) {
    // A symlink to a watched directory went away, with the files behind it.
    // Another path may reach what it led to, skipped so far as a duplicate:
    // re-walk everything.
    DropUnder(path);
    SetRescan();
    SyncOrWarn("", /*report=*/false, nullptr);
    return;
  }
  const bool watched_name = IsWatchedFileName(name);
  if ((mask & (IN_CREATE | IN_MOVED_TO)) && !watched_name && name[0] != '.') {
    std::optional<DirId> id = StatDir(Abs(path));
    if (id) {  // a symlink to a directory
      if (!SkipDir(path, name)) SyncOrWarn(path, /*report=*/true, nullptr);
      return;
    }
  }
  if (watched_name && ReportFile(path, name)) AddPending(path);
}

void Watcher::Impl::ResolveMoveOut() {
  if (!move_from_) return;
  const std::string path = std::move(move_from_->path);
  move_from_.reset();
  if (WdsUnder(path).empty()) return;  // nothing watched went
  DropUnder(path);
  SetRescan();
}

void Watcher::Impl::RootGone() {
  if (root_gone_) return;
  root_gone_ = true;
  DropUnder("");
  AddWarning("the watch root " + root_ +
             " was deleted or moved away; changes beneath it are no longer seen");
  SetRescan();
}

void Watcher::Impl::AfterBuffer() {
  if (overflowed_) {
    // Events were lost, directory creations among them: re-walk everything.
    overflowed_ = false;
    move_from_.reset();
    dirty_ignores_.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.overflows;
    }
    SetRescan();
    if (!root_gone_) SyncOrWarn("", /*report=*/false, nullptr);
    return;
  }
  if (dirty_ignores_.empty() || move_from_) return;  // after the pending move resolves
  std::set<std::string> dirs = std::move(dirty_ignores_);
  dirty_ignores_.clear();
  for (const std::string& dir : dirs) {
    if (wd_by_path_.count(dir) != 0) SyncOrWarn(dir, /*report=*/false, nullptr);
  }
  SetRescan();
}

// ----------------------------------------------------------------- batches

void Watcher::Impl::TouchLocked() {
  const auto now = SteadyClock::now();
  if (!HasChangesLocked()) first_change_ = now;
  last_change_ = now;
}

void Watcher::Impl::AddPending(std::string path) {
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked();
  if (rescan_) return;  // covers every path
  if (pending_.size() >= max_pending_ && pending_.count(path) == 0) {
    rescan_ = true;
    std::unordered_set<std::string>().swap(pending_);  // give the memory back
    return;
  }
  pending_.insert(std::move(path));
  stats_.max_pending_seen = std::max(stats_.max_pending_seen, pending_.size());
}

void Watcher::Impl::SetRescan() {
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked();
  rescan_ = true;
  std::unordered_set<std::string>().swap(pending_);
}

void Watcher::Impl::AddWarning(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  TouchLocked();
  if (warnings_.size() < kMaxWarnings) warnings_.push_back(std::move(message));
}

void Watcher::Impl::Publish(uint64_t events) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.events += events;
    stats_.watched_dirs = dirs_.size();
  }
  cv_.notify_all();
}

void Watcher::Impl::Fail(std::string message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    thread_error_ = Status::IOError(message);
  }
  cv_.notify_all();
}

WatchBatch Watcher::Impl::TakeBatchLocked(bool stopped) {
  WatchBatch batch;
  batch.rescan = rescan_;
  batch.paths.assign(pending_.begin(), pending_.end());
  std::sort(batch.paths.begin(), batch.paths.end());
  batch.warnings = std::move(warnings_);
  batch.stopped = stopped;
  warnings_.clear();
  std::unordered_set<std::string>().swap(pending_);
  rescan_ = false;
  if (batch.rescan || !batch.paths.empty() || !batch.warnings.empty()) {
    ++stats_.batches;
    if (batch.rescan) ++stats_.rescans;
  }
  return batch;
}

Result<WatchBatch> Watcher::Impl::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    if (stop_) return TakeBatchLocked(/*stopped=*/true);
    if (!thread_error_.ok()) return thread_error_;
    const auto now = SteadyClock::now();
    auto wake = deadline;
    if (HasChangesLocked()) {
      const auto ready_at =
          std::min(last_change_ + options_.debounce, first_change_ + options_.max_latency);
      if (now >= ready_at) return TakeBatchLocked(/*stopped=*/false);
      wake = std::min(wake, ready_at);
    }
    if (now >= deadline) return WatchBatch{};
    cv_.wait_until(lock, wake);
  }
}

void Watcher::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (wake_.get() >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t written = ::write(wake_.get(), &one, sizeof one);
  }
}

// ----------------------------------------------------------------- Watcher

Watcher::Watcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Watcher::~Watcher() = default;

Result<std::unique_ptr<Watcher>> Watcher::Start(const std::string& root,
                                                const WatchOptions& options) {
  if (root.empty()) return Status::InvalidArgument("watch root is empty");
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec);
  if (ec) return Status::InvalidArgument("watch root " + root + ": " + ec.message());
  std::string normal = abs.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  struct stat st;
  if (::stat(normal.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Status::InvalidArgument("watch root does not exist: " + root);
    }
    return Status::IOError("cannot access watch root " + root + ": " + ErrnoText(err));
  }
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument("watch root is not a directory: " + root);

  auto impl = std::make_unique<Impl>(normal, options);
  FG_RETURN_IF_ERROR(impl->Init());
  impl->StartThread();
  return std::unique_ptr<Watcher>(new Watcher(std::move(impl)));
}

Result<WatchBatch> Watcher::Next(std::chrono::milliseconds timeout) { return impl_->Next(timeout); }
void Watcher::Stop() { impl_->Stop(); }
WatchStats Watcher::stats() const { return impl_->stats(); }
const std::string& Watcher::root() const { return impl_->root(); }

}  // namespace ferrograph
