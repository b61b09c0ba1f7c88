#include "ingest/workspace.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "ingest/cargo_manifest.h"

namespace ferrograph {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------
// Paths.

// Absolute and lexically normalized, without a trailing separator; symlinks
// are kept as written.
fs::path Normalize(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  fs::path n = abs.lexically_normal();
  std::string s = n.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return fs::path(s);
}

// True when `p` equals `prefix` or lies beneath it, comparing whole components.
bool PathHasPrefix(const fs::path& p, const fs::path& prefix) {
  auto it = p.begin();
  for (const fs::path& part : prefix) {
    if (part.empty()) continue;  // a trailing separator
    if (it == p.end() || *it != part) return false;
    ++it;
  }
  return true;
}

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

using DirId = std::pair<dev_t, ino_t>;

std::optional<DirId> IdentityOf(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return DirId{st.st_dev, st.st_ino};
}

// A crate name from a package, target, directory or file name: every byte
// that cannot appear in a Rust identifier becomes `_` ("regex-cli" →
// "regex_cli").
std::string CrateNameOf(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || u >= 0x80;
    if (!ok) c = '_';
  }
  if (out.empty()) out = "_";
  return out;
}

Result<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + p.string());
  return ss.str();
}

// Sorted entries of `dir`; empty, with `*ec` set, when it cannot be read (a
// directory without read permission included).
std::vector<fs::directory_entry> ListDir(const fs::path& dir, std::error_code* ec) {
  std::vector<fs::directory_entry> entries;
  fs::directory_iterator it(dir, *ec);
  if (*ec) return entries;
  for (; it != fs::directory_iterator(); it.increment(*ec)) {
    if (*ec) break;
    entries.push_back(*it);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return entries;
}

// ---------------------------------------------------------------------------
// Globs, as in .gitignore and Cargo's workspace members: `*` and `?` stop at
// `/`, `[a-z]` / `[!a]` classes, `\` escapes, and `**` as a whole component
// matches any number of directories.

bool GlobMatchAt(std::string_view p, size_t pi, std::string_view s, size_t si) {
  while (pi < p.size()) {
    char c = p[pi];
    if (c == '*') {
      bool double_star = pi + 1 < p.size() && p[pi + 1] == '*' && (pi == 0 || p[pi - 1] == '/') &&
                         (pi + 2 == p.size() || p[pi + 2] == '/');
      if (double_star) {
        if (pi + 2 == p.size()) return true;  // trailing `**`: everything beneath
        size_t rest = pi + 3;                 // after `**/`: zero or more directories
        if (GlobMatchAt(p, rest, s, si)) return true;
        for (size_t k = si; k < s.size(); ++k) {
          if (s[k] == '/' && GlobMatchAt(p, rest, s, k + 1)) return true;
        }
        return false;
      }
      while (pi < p.size() && p[pi] == '*') ++pi;
      if (pi == p.size()) return s.find('/', si) == std::string_view::npos;
      for (size_t k = si; k <= s.size(); ++k) {
        if (GlobMatchAt(p, pi, s, k)) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (si >= s.size()) return false;
    char ch = s[si];
    if (c == '?') {
      if (ch == '/') return false;
      ++pi;
      ++si;
      continue;
    }
    if (c == '[') {
      size_t j = pi + 1;
      bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
      if (negate) ++j;
      bool matched = false;
      bool first = true;
      while (j < p.size() && (p[j] != ']' || first)) {
        first = false;
        char lo = p[j];
        if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
        if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
          char hi = p[j + 2];
          if (lo <= ch && ch <= hi) matched = true;
          j += 3;
        } else {
          if (ch == lo) matched = true;
          ++j;
        }
      }
      if (j < p.size()) {  // a closed class
        if (ch == '/' || matched == negate) return false;
        pi = j + 1;
        ++si;
        continue;
      }
      // No closing `]`: a literal `[`.
    }
    if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
    if (c != ch) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return GlobMatchAt(pattern, 0, text, 0);
}

bool HasGlobChars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// ---------------------------------------------------------------------------
// .gitignore.

struct IgnoreRule {
  std::string pattern;
  bool negate = false;
  bool dir_only = false;
  bool anchored = false;  // matched against the path relative to the file's directory
};

struct IgnoreFile {
  std::string base;  // the directory holding the .gitignore, normalized
  std::vector<IgnoreRule> rules;
};

IgnoreFile ParseGitignore(const fs::path& base, std::string_view text) {
  IgnoreFile file{base.string(), {}};
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // Trailing spaces are dropped unless escaped.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.pop_back();
    }
    if (line.empty()) continue;
    IgnoreRule rule;
    if (line[0] == '!') {
      rule.negate = true;
      line.erase(0, 1);
    } else if (line.size() >= 2 && line[0] == '\\' && (line[1] == '!' || line[1] == '#')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.dir_only = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    rule.anchored = line.find('/') != std::string::npos;
    if (line[0] == '/') line.erase(0, 1);
    if (line.empty()) continue;
    rule.pattern = std::move(line);
    file.rules.push_back(std::move(rule));
  }
  return file;
}

// The .gitignore files that apply to a directory, outermost first.
class IgnoreStack {
 public:
  void Push(std::shared_ptr<const IgnoreFile> file) { files_.push_back(std::move(file)); }
  void Pop() { files_.pop_back(); }

  // Git's rule: the last matching pattern wins, deeper files after outer ones.
  bool IsIgnored(const fs::path& path, bool is_dir) const {
    const std::string s = path.string();
    bool ignored = false;
    for (const auto& file : files_) {
      if (s.size() <= file->base.size() || s.compare(0, file->base.size(), file->base) != 0) {
        continue;
      }
      size_t offset = file->base.size();
      if (file->base != "/") ++offset;  // the separator
      std::string_view rel = std::string_view(s).substr(offset);
      size_t slash = rel.rfind('/');
      std::string_view basename = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
      for (const IgnoreRule& rule : file->rules) {
        if (rule.dir_only && !is_dir) continue;
        if (GlobMatch(rule.pattern, rule.anchored ? rel : basename)) ignored = !rule.negate;
      }
    }
    return ignored;
  }

 private:
  std::vector<std::shared_ptr<const IgnoreFile>> files_;
};

std::shared_ptr<const IgnoreFile> LoadGitignore(const fs::path& dir) {
  fs::path p = dir / ".gitignore";
  if (!IsFile(p)) return nullptr;
  Result<std::string> text = ReadFile(p);
  if (!text.ok()) return nullptr;
  return std::make_shared<const IgnoreFile>(ParseGitignore(dir, *text));
}

// ---------------------------------------------------------------------------
// The tree walk shared by discovery and ListRustFiles.

// What a walk reports; every hook may be left empty.
struct WalkHooks {
  // Each directory entered (the root first), before its entries are looked
  // at; `ignores` holds the .gitignore files that apply inside it.
  std::function<void(const fs::path& dir, const IgnoreStack& ignores)> on_dir;
  // Each regular file (symlinks followed) whose name ends in
  // `file_extension`, unless hidden or ignored.
  std::function<void(const fs::path& file)> on_file;
  std::string file_extension;
  // A directory that cannot be read; the walk goes on without it.
  std::function<void(const fs::path& dir, const std::error_code& ec)> on_unreadable;
  // A directory reached again from beneath itself (through a symlink); it is
  // not entered again.
  std::function<void(const fs::path& dir)> on_loop;
};

// The .gitignore files above `root` that apply to it: those from its parent
// up to the git repository's top, outermost first; none outside a repository.
IgnoreStack AncestorIgnores(const fs::path& root) {
  IgnoreStack ignores;
  std::vector<fs::path> ancestors;
  for (fs::path p = root.parent_path(); !p.empty(); p = p.parent_path()) {
    ancestors.push_back(p);
    if (fs::exists(p / ".git") || p == p.parent_path()) break;
  }
  bool in_repo = !ancestors.empty() && fs::exists(ancestors.back() / ".git");
  if (in_repo) {
    for (auto it = ancestors.rbegin(); it != ancestors.rend(); ++it) {
      if (auto file = LoadGitignore(*it)) ignores.Push(file);
    }
  }
  return ignores;
}

// Walks the directory `root` (absolute, normalized) depth-first, entries in
// name order, with an explicit stack. Skips hidden entries, directories named
// `target`, and what the .gitignore files in force ignore. Each directory
// (by device and inode) is entered once: the first path reaching it wins, a
// later one is passed over, and one leading back into a directory still being
// walked is reported as a loop. With `follow_symlinks` false, symlinked
// directories are not entered at all.
void WalkTree(const fs::path& root, bool follow_symlinks, const WalkHooks& hooks) {
  IgnoreStack ignores = AncestorIgnores(root);
  std::set<DirId> entered;  // every directory walked so far
  std::set<DirId> open;     // the directories from the root to the current one
  // A directory to enter, or (with `leave`) the end of one: its entries have
  // all been walked, so it is closed and its .gitignore dropped.
  struct Step {
    fs::path dir;
    std::optional<DirId> leave;
    bool pushed_gitignore = false;
  };
  std::vector<Step> stack;
  stack.push_back(Step{root, std::nullopt, false});
  while (!stack.empty()) {
    Step step = std::move(stack.back());
    stack.pop_back();
    if (step.leave) {
      open.erase(*step.leave);
      if (step.pushed_gitignore) ignores.Pop();
      continue;
    }
    const fs::path& dir = step.dir;
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      if (hooks.on_unreadable)
        hooks.on_unreadable(dir, std::error_code(errno, std::system_category()));
      continue;
    }
    DirId id{st.st_dev, st.st_ino};
    if (open.count(id) != 0) {
      if (hooks.on_loop) hooks.on_loop(dir);
      continue;
    }
    if (!entered.insert(id).second) continue;  // reached before by another path
    open.insert(id);
    std::shared_ptr<const IgnoreFile> gitignore = LoadGitignore(dir);
    if (gitignore) ignores.Push(gitignore);
    stack.push_back(Step{fs::path(), id, gitignore != nullptr});

    if (hooks.on_dir) hooks.on_dir(dir, ignores);
    std::error_code ec;
    std::vector<fs::directory_entry> entries = ListDir(dir, &ec);
    if (ec && hooks.on_unreadable) hooks.on_unreadable(dir, ec);
    const size_t first_child = stack.size();
    for (const fs::directory_entry& e : entries) {
      std::string name = e.path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      std::error_code sec;
      if (e.is_directory(sec)) {
        if (name == "target") continue;
        if (!follow_symlinks && e.is_symlink(sec)) continue;
        if (ignores.IsIgnored(e.path(), true)) continue;
        stack.push_back(Step{e.path(), std::nullopt, false});
      } else if (hooks.on_file && name.ends_with(hooks.file_extension) && e.is_regular_file(sec) &&
                 !ignores.IsIgnored(e.path(), false)) {
        hooks.on_file(e.path());
      }
    }
    // The first entry is walked first.
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first_child), stack.end());
  }
}

// ---------------------------------------------------------------------------
// Discovery.

bool IsEdition2015(const std::optional<std::string>& edition) {
  return !edition || *edition == "2015";
}

// A target inferred from the file layout: (name, file).
using Inferred = std::vector<std::pair<std::string, fs::path>>;

// `dir/*.rs` and `dir/*/main.rs`, sorted by name.
Inferred InferFromDirectory(const fs::path& dir) {
  Inferred out;
  if (!IsDir(dir)) return out;
  std::error_code ec;
  for (const fs::directory_entry& e : ListDir(dir, &ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.path().extension() == ".rs" && IsFile(e.path())) {
      out.emplace_back(e.path().stem().string(), Normalize(e.path()));
    } else if (IsDir(e.path()) && IsFile(e.path() / "main.rs")) {
      out.emplace_back(name, Normalize(e.path() / "main.rs"));
    }
  }
  return out;
}

class Discoverer {
 public:
  Discoverer(const DiscoverOptions& options, Workspace* ws) : options_(options), ws_(ws) {}

  // A directory whose Cargo.toml is the user's entry point. Returns false
  // when its manifest is broken (the caller then walks beneath it).
  bool DiscoverManifestDir(const fs::path& dir) {
    const CargoManifest* m = LoadManifest(dir);
    if (m == nullptr) return false;
    if (m->workspace) {
      AddWorkspace(dir, *m);
    } else if (m->package) {
      AddPackage(dir, *m, FindWorkspaceRootFor(dir, *m));
    } else {
      WarnAt(dir / "Cargo.toml", 0, "neither [package] nor [workspace] found");
    }
    return true;
  }

  // Every package beneath `root`, which has no usable Cargo.toml of its own.
  // Symlink loops are passed over without a warning here: ListRustFiles,
  // run over the same directories when indexing, reports them.
  void Walk(const fs::path& root) {
    WalkHooks hooks;
    hooks.on_dir = [this](const fs::path& dir, const IgnoreStack& ignores) {
      if (IsFile(dir / "Cargo.toml") && !ignores.IsIgnored(dir / "Cargo.toml", false)) {
        DiscoverManifestDir(dir);
      }
    };
    hooks.on_unreadable = [this](const fs::path& dir, const std::error_code& ec) {
      Warn(Display(dir) + ": cannot read directory: " + ec.message());
    };
    WalkTree(root, options_.follow_symlinks, hooks);
  }

  bool saw_manifest() const { return saw_manifest_; }

 private:
  struct CachedManifest {
    bool ok = false;
    CargoManifest manifest;
  };

  std::string Display(const fs::path& p) const {
    fs::path root(ws_->root);
    if (PathHasPrefix(p, root)) {
      fs::path rel = p.lexically_relative(root);
      if (!rel.empty()) return rel.string();
    }
    return p.string();
  }

  void Warn(std::string msg) { ws_->warnings.push_back(std::move(msg)); }
  void WarnAt(const fs::path& manifest, int line, std::string_view msg) {
    std::string s = Display(manifest);
    if (line > 0) s += ":" + std::to_string(line);
    s += ": ";
    s += msg;
    Warn(std::move(s));
  }

  // The parsed Cargo.toml of `dir`, or nullptr (with a warning, once) when it
  // is missing, unreadable or broken.
  const CargoManifest* LoadManifest(const fs::path& dir) {
    fs::path path = dir / "Cargo.toml";
    std::string key = path.string();
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      auto entry = std::make_unique<CachedManifest>();
      if (IsFile(path)) {
        saw_manifest_ = true;
        Result<std::string> text = ReadFile(path);
        if (!text.ok()) {
          Warn(Display(path) + ": " + text.status().message());
        } else {
          Result<CargoManifest> m = ParseCargoManifest(*text, Display(path));
          if (m.ok()) {
            entry->ok = true;
            entry->manifest = std::move(m).value();
          } else {
            Warn(m.status().message());
          }
        }
      }
      it = cache_.emplace(key, std::move(entry)).first;
    }
    return it->second->ok ? &it->second->manifest : nullptr;
  }

  // The workspace root whose [workspace.package] and [workspace.dependencies]
  // a package inherits from: `package.workspace` if given, else the nearest
  // ancestor with a [workspace]. Searched only when something is inherited.
  std::optional<fs::path> FindWorkspaceRootFor(const fs::path& dir, const CargoManifest& m) {
    bool inherits =
        m.package && (m.package->version_from_workspace || m.package->edition_from_workspace);
    for (const CargoDependency& d : m.dependencies) inherits = inherits || d.workspace;
    if (!inherits) return std::nullopt;
    if (m.package && m.package->workspace) {
      fs::path root = Normalize(dir / *m.package->workspace);
      const CargoManifest* rm = LoadManifest(root);
      if (rm != nullptr && rm->workspace) return root;
      return std::nullopt;
    }
    for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
      if (IsFile(p / "Cargo.toml")) {
        const CargoManifest* rm = LoadManifest(p);
        if (rm != nullptr && rm->workspace) return p;
      }
      if (p == p.parent_path()) break;
    }
    return std::nullopt;
  }

  bool IsExcluded(const fs::path& root, const CargoWorkspaceSpec& spec, const fs::path& dir) {
    for (const std::string& ex : spec.exclude) {
      if (PathHasPrefix(dir, Normalize(root / ex))) return true;
    }
    return false;
  }

  // Directories matching a workspace member pattern, sorted.
  std::vector<fs::path> ExpandMemberGlob(const fs::path& root, const std::string& pattern) {
    std::vector<fs::path> current{root};
    fs::path pat(pattern);
    if (pat.is_absolute()) current = {fs::path("/")};
    for (const fs::path& part_path : pat.relative_path()) {
      std::string part = part_path.string();
      if (part.empty()) continue;
      std::vector<fs::path> next;
      if (part == "**") {
        std::set<DirId> seen;
        for (const fs::path& d : current) CollectDirsRecursively(d, &seen, &next);
      } else if (HasGlobChars(part)) {
        for (const fs::path& d : current) {
          std::error_code ec;
          for (const fs::directory_entry& e : ListDir(d, &ec)) {
            std::string name = e.path().filename().string();
            if (!name.empty() && name[0] == '.' && part[0] != '.') continue;
            if (IsDir(e.path()) && GlobMatch(part, name)) next.push_back(e.path());
          }
        }
      } else {
        for (const fs::path& d : current) next.push_back(d / part);
      }
      current = std::move(next);
    }
    std::vector<fs::path> out;
    for (const fs::path& d : current) {
      if (IsDir(d)) out.push_back(Normalize(d));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  void CollectDirsRecursively(const fs::path& dir, std::set<DirId>* seen,
                              std::vector<fs::path>* out) {
    auto id = IdentityOf(dir);
    if (!id || !seen->insert(*id).second) return;
    out->push_back(dir);
    std::error_code ec;
    for (const fs::directory_entry& e : ListDir(dir, &ec)) {
      std::string name = e.path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      if (IsDir(e.path())) CollectDirsRecursively(e.path(), seen, out);
    }
  }

  void AddWorkspace(const fs::path& root, const CargoManifest& m) {
    const CargoWorkspaceSpec& spec = *m.workspace;
    fs::path manifest_path = root / "Cargo.toml";
    std::vector<fs::path> members;
    if (m.package) members.push_back(root);  // the root package is always a member
    for (const std::string& pattern : spec.members) {
      std::vector<fs::path> dirs = ExpandMemberGlob(root, pattern);
      bool glob = HasGlobChars(pattern);
      if (!glob && (dirs.empty() || !IsFile(dirs[0] / "Cargo.toml"))) {
        WarnAt(manifest_path, spec.line, "workspace member `" + pattern + "` has no Cargo.toml");
        continue;
      }
      for (const fs::path& d : dirs) {
        if (IsExcluded(root, spec, d) || !IsFile(d / "Cargo.toml")) continue;
        members.push_back(d);
      }
    }
    // Path dependencies of members that lie inside the workspace are members too.
    for (size_t i = 0; i < members.size(); ++i) {
      fs::path dir = members[i];
      const CargoManifest* mm = dir == root ? &m : LoadManifest(dir);
      if (mm == nullptr) continue;
      if (dir != root && !mm->package) {
        WarnAt(dir / "Cargo.toml", 0, "workspace member has no [package]");
        continue;
      }
      AddPackage(dir, *mm, root);
      for (const CargoDependency& d : mm->dependencies) {
        if (!d.path) continue;
        fs::path dep_dir = Normalize(dir / *d.path);
        if (PathHasPrefix(dep_dir, root) && !IsExcluded(root, spec, dep_dir) &&
            IsFile(dep_dir / "Cargo.toml") &&
            std::find(members.begin(), members.end(), dep_dir) == members.end()) {
          members.push_back(dep_dir);
        }
      }
    }
  }

  // The file of an explicit [[bin]] / [[example]] without a `path`, by
  // Cargo's rules: the inferred target of that name, else (2015 edition bins
  // only) the legacy locations.
  std::optional<fs::path> ExplicitTargetPath(const fs::path& dir, const CargoTargetSpec& spec,
                                             const Inferred& inferred, bool is_bin,
                                             bool edition_2015, bool has_lib) {
    if (spec.path) return Normalize(dir / *spec.path);
    std::optional<fs::path> found;
    int matches = 0;
    for (const auto& [name, file] : inferred) {
      if (name == *spec.name) {
        if (!found) found = file;
        ++matches;
      }
    }
    if (matches == 1 || (matches > 1 && !edition_2015)) return found;
    if (is_bin && edition_2015) {
      std::vector<fs::path> legacy;
      if (!has_lib) legacy.push_back(dir / "src" / (*spec.name + ".rs"));
      legacy.push_back(dir / "src" / "main.rs");
      legacy.push_back(dir / "src" / "bin" / "main.rs");
      for (const fs::path& p : legacy) {
        if (IsFile(p)) return Normalize(p);
      }
    }
    return found;
  }

  // Cargo's merge of declared and inferred targets of one kind.
  void AddTargets(const fs::path& dir, const fs::path& manifest_path, TargetKind kind,
                  const std::vector<CargoTargetSpec>& declared, const Inferred& inferred,
                  std::optional<bool> autodiscover, bool edition_2015, bool has_lib, Package* pkg) {
    const char* what = kind == TargetKind::kBin ? "bin" : "example";
    std::vector<std::pair<std::string, fs::path>> chosen;
    for (const CargoTargetSpec& spec : declared) {
      if (!spec.name) {
        WarnAt(manifest_path, spec.line, std::string(what) + " target has no `name`");
        continue;
      }
      std::optional<fs::path> file =
          ExplicitTargetPath(dir, spec, inferred, kind == TargetKind::kBin, edition_2015, has_lib);
      if (!file || !IsFile(*file)) {
        WarnAt(manifest_path, spec.line,
               std::string("cannot find the source of ") + what + " `" + *spec.name + "`");
        continue;
      }
      chosen.emplace_back(*spec.name, *file);
    }
    bool discover = autodiscover.value_or(declared.empty() || !edition_2015);
    if (discover) {
      for (const auto& [name, file] : inferred) {
        bool taken = std::any_of(chosen.begin(), chosen.end(), [&](const auto& c) {
          return c.first == name || c.second == file;
        });
        if (!taken) chosen.emplace_back(name, file);
      }
    }
    for (auto& [name, file] : chosen) {
      pkg->targets.push_back(Target{kind, CrateNameOf(name), file.string()});
    }
  }

  void AddPackage(const fs::path& dir, const CargoManifest& m,
                  const std::optional<fs::path>& workspace_root) {
    auto id = IdentityOf(dir);
    if (!id || !added_.insert(*id).second) return;
    fs::path manifest_path = dir / "Cargo.toml";
    const CargoPackageSpec& spec = *m.package;
    const CargoWorkspaceSpec* ws_spec = nullptr;
    if (workspace_root) {
      const CargoManifest* rm = LoadManifest(*workspace_root);
      if (rm != nullptr && rm->workspace) ws_spec = &*rm->workspace;
    }

    Package pkg;
    pkg.name = spec.name;
    pkg.manifest_dir = dir.string();
    if (spec.version) {
      pkg.version = *spec.version;
    } else if (spec.version_from_workspace) {
      if (ws_spec && ws_spec->package_version) {
        pkg.version = *ws_spec->package_version;
      } else {
        WarnAt(manifest_path, spec.line,
               "`package.version` is inherited but no [workspace.package] version was found");
      }
    }
    std::optional<std::string> edition = spec.edition;
    if (!edition && spec.edition_from_workspace && ws_spec) edition = ws_spec->package_edition;
    bool edition_2015 = IsEdition2015(edition);
    pkg.edition = edition.value_or("2015");

    // lib
    bool has_lib = false;
    if (m.lib || spec.autolib.value_or(true)) {
      fs::path file = Normalize(m.lib && m.lib->path ? dir / *m.lib->path : dir / "src" / "lib.rs");
      if (IsFile(file)) {
        std::string name = m.lib && m.lib->name ? *m.lib->name : spec.name;
        pkg.targets.push_back(Target{TargetKind::kLib, CrateNameOf(name), file.string()});
        has_lib = true;
      } else if (m.lib && m.lib->path) {
        WarnAt(manifest_path, m.lib->line,
               "cannot find the source of the lib target: " + Display(file));
      }
    }

    // bins
    Inferred bins;
    if (IsFile(dir / "src" / "main.rs")) {
      bins.emplace_back(spec.name, Normalize(dir / "src" / "main.rs"));
    }
    for (auto& b : InferFromDirectory(dir / "src" / "bin")) bins.push_back(std::move(b));
    AddTargets(dir, manifest_path, TargetKind::kBin, m.bins, bins, spec.autobins, edition_2015,
               has_lib, &pkg);

    // examples
    if (options_.include_examples) {
      AddTargets(dir, manifest_path, TargetKind::kExample, m.examples,
                 InferFromDirectory(dir / "examples"), spec.autoexamples, edition_2015, has_lib,
                 &pkg);
    }

    // dependencies: normal ones take precedence over build and dev ones.
    for (DependencyKind kind :
         {DependencyKind::kNormal, DependencyKind::kBuild, DependencyKind::kDev}) {
      for (const CargoDependency& d : m.dependencies) {
        if (d.kind != kind) continue;
        std::string package = d.package;
        if (d.workspace && ws_spec) {
          for (const CargoDependency& wd : ws_spec->dependencies) {
            if (wd.key == d.key) package = wd.package;
          }
        }
        if (pkg.dependencies.emplace(CrateNameOf(d.key), package).second &&
            kind == DependencyKind::kDev)
          pkg.inactive.insert(CrateNameOf(d.key));
      }
    }
    CargoFeatureSet features = ResolveFeatures(m);
    pkg.features = std::move(features.features);
    for (const CargoDependency& d : m.dependencies) {
      if (d.optional && !std::binary_search(features.optional_dependencies.begin(),
                                            features.optional_dependencies.end(), d.key))
        pkg.inactive.insert(CrateNameOf(d.key));
    }
    if (std::ifstream in(dir / "build.rs", std::ios::binary); in) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      pkg.build_cfgs = BuildScriptCfgs(text);
    }
    ws_->packages.push_back(std::move(pkg));
  }

  DiscoverOptions options_;
  Workspace* ws_;
  std::map<std::string, std::unique_ptr<CachedManifest>> cache_;
  std::set<DirId> added_;  // package directories indexed
  bool saw_manifest_ = false;
};

Package PlainPackage(const fs::path& dir, const fs::path& root_file, const std::string& name) {
  Package pkg;
  pkg.name = name;
  pkg.manifest_dir = dir.string();
  pkg.targets.push_back(Target{TargetKind::kPlainDirectory, CrateNameOf(name), root_file.string()});
  return pkg;
}

std::string StripRawPrefix(const std::string& name) {
  return name.starts_with("r#") ? name.substr(2) : name;
}

}  // namespace

Result<Workspace> DiscoverWorkspace(const std::string& path, const DiscoverOptions& options) {
  if (path.empty()) return Status::InvalidArgument("no path to index");
  fs::path p = Normalize(path);
  std::error_code ec;
  fs::file_status st = fs::status(p, ec);
  if (ec || !fs::exists(st)) return Status::NotFound("path does not exist: " + path);

  Workspace ws;
  if (fs::is_regular_file(st)) {
    if (p.filename() == "Cargo.toml") {
      p = p.parent_path();
    } else if (p.extension() == ".rs") {
      ws.root = p.parent_path().string();
      ws.packages.push_back(PlainPackage(p.parent_path(), p, p.stem().string()));
      return ws;
    } else {
      return Status::InvalidArgument("not a directory, a Cargo.toml or a .rs file: " + path);
    }
  } else if (!fs::is_directory(st)) {
    return Status::InvalidArgument("not a directory, a Cargo.toml or a .rs file: " + path);
  }
  fs::directory_iterator probe(p, ec);
  if (ec) return Status::IOError("cannot read directory " + p.string() + ": " + ec.message());

  ws.root = p.string();
  Discoverer discoverer(options, &ws);
  if (!IsFile(p / "Cargo.toml") || !discoverer.DiscoverManifestDir(p)) discoverer.Walk(p);
  if (ws.packages.empty() && !discoverer.saw_manifest()) {
    std::string name = p.filename().string();
    if (name.empty()) name = "root";
    ws.packages.push_back(PlainPackage(p, p, name));
  }
  return ws;
}

std::vector<std::string> ListRustFiles(const std::string& dir, std::vector<std::string>* warnings) {
  fs::path root = Normalize(dir);
  if (IsFile(root)) return {root.string()};
  std::vector<std::string> files;
  WalkHooks hooks;
  hooks.file_extension = ".rs";
  hooks.on_file = [&files](const fs::path& file) { files.push_back(file.string()); };
  hooks.on_unreadable = [warnings](const fs::path& d, const std::error_code& ec) {
    if (warnings) warnings->push_back(d.string() + ": cannot read directory: " + ec.message());
  };
  hooks.on_loop = [warnings](const fs::path& d) {
    if (warnings) warnings->push_back(d.string() + ": symlink loop, not followed again");
  };
  WalkTree(root, /*follow_symlinks=*/true, hooks);
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

ModuleFileCandidates ModuleFileFor(
    const std::string& parent_file, bool parent_is_mod_rs,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& enclosing,
    const std::string& name, const std::optional<std::string>& path_attr) {
  // rustc_expand's module state: the directory for submodules, plus, for a
  // non-mod-rs file, the pending `relative` component (its own module name).
  fs::path file = Normalize(parent_file);
  fs::path dir = file.parent_path();
  std::optional<std::string> relative;
  if (!parent_is_mod_rs) relative = file.stem().string();
  for (const auto& [inline_name, inline_path] : enclosing) {
    if (inline_path) {
      // An inline module's #[path] names a directory, relative to the
      // module's directory without the pending component.
      dir /= *inline_path;
    } else {
      if (relative) dir /= *relative;
      dir /= StripRawPrefix(inline_name);
    }
    relative.reset();
  }
  ModuleFileCandidates out;
  if (path_attr) {
    out.candidates.push_back(Normalize(dir / *path_attr).string());
    out.from_path_attr = true;
    return out;
  }
  fs::path base = relative ? dir / *relative : dir;
  std::string n = StripRawPrefix(name);
  out.candidates.push_back(Normalize(base / (n + ".rs")).string());
  out.candidates.push_back(Normalize(base / n / "mod.rs").string());
  return out;
}

std::vector<std::string> BuildScriptCfgs(std::string_view text) {
  std::set<std::string> out;
  auto ident_at = [&](size_t pos) {
    size_t end = pos;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
      ++end;
    return std::string(text.substr(pos, end - pos));
  };
  // A string literal's text starting at `pos` (just after the quote),
  // with everything but identifier characters turned into '_'.
  auto literal_at = [&](size_t pos) {
    std::string s;
    for (size_t i = pos; i < text.size() && text[i] != '"' && s.size() < 64; ++i)
      s.push_back(std::isalnum(static_cast<unsigned char>(text[i])) ? text[i] : '_');
    return s;
  };
  for (size_t at = text.find("rustc-cfg="); at != std::string_view::npos;
       at = text.find("rustc-cfg=", at + 1)) {
    std::string name = ident_at(at + 10);
    if (!name.empty()) out.insert(name);
  }
  struct Call {
    std::string_view prefix;  // `NAME("` as written
    std::string_view cfg_prefix;
  };
  for (Call c : {Call{"emit(\"", ""}, Call{"emit_sysroot_crate(\"", "has_"},
                 Call{"emit_has_type(\"", "has_"}, Call{"emit_has_path(\"", "has_"}}) {
    for (size_t at = text.find(c.prefix); at != std::string_view::npos;
         at = text.find(c.prefix, at + 1)) {
      std::string name = literal_at(at + c.prefix.size());
      if (!name.empty()) out.insert(std::string(c.cfg_prefix) + name);
    }
  }
  for (size_t at = text.find("emit_rustc_version("); at != std::string_view::npos;
       at = text.find("emit_rustc_version(", at + 1)) {
    size_t p = at + 19;
    std::string major = ident_at(p);
    p += major.size();
    while (p < text.size() && (text[p] == ',' || text[p] == ' ')) ++p;
    std::string minor = ident_at(p);
    if (!major.empty() && !minor.empty()) out.insert("rustc_" + major + "_" + minor);
  }
  return {out.begin(), out.end()};
}

}  // namespace ferrograph
