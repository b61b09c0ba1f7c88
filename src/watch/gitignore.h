// Gitignore rules: which paths under a directory tree git would ignore.
//
// The subset of gitignore(5) implemented, which is what real repositories use:
//   - blank lines and `#` comments are skipped; trailing spaces are dropped
//     unless escaped (`\ `); `\#` and `\!` start a literal `#` / `!`;
//   - `!pattern` re-includes what an earlier pattern excluded (but nothing
//     inside a directory that is itself excluded: git never looks there);
//   - a trailing `/` matches directories only;
//   - a pattern with a `/` at its start or in its middle is anchored: matched
//     against the path relative to the .gitignore's directory; one without is
//     matched against the last component at any depth below that directory;
//   - `*` and `?` match within one component, `[abc]`, `[a-z]`, `[!a]` /
//     `[^a]` and `[[:alpha:]]`-style classes match one character other than
//     `/`, `\` escapes the next character;
//   - `**/` at the start or `/**/` in the middle matches zero or more
//     directories, a trailing `/**` everything beneath; other runs of `*` act
//     like one `*`.
// Matching is case-sensitive, as git on Linux. Not implemented: the global
// excludes file, .git/info/exclude.
//
// Precedence, as in git: within one file the last matching pattern wins; a
// deeper .gitignore overrides the ones above it; a path inside an ignored
// directory is ignored whatever the patterns say about it.
//
// Paths are relative to the tree's root, `/`-separated, without a leading or
// trailing `/` ("src/lib.rs"; "" is the root itself).
//
// Thread safety: const methods may be called concurrently; mutation needs
// exclusive access. Pure computation: no file system access.
#ifndef FERROGRAPH_WATCH_GITIGNORE_H_
#define FERROGRAPH_WATCH_GITIGNORE_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ferrograph {

// Git's wildmatch for one pattern (after the .gitignore line syntax is
// removed): true when `pattern` matches all of `path`. `*`, `?` and classes
// never match `/`; `**` as a whole component matches across directories.
bool GitignoreGlobMatch(std::string_view pattern, std::string_view path);

// The parsed rules of one .gitignore file.
class GitignoreFile {
 public:
  enum class Verdict {
    kNoMatch,   // no pattern matches: the outer files decide
    kIgnored,   // the last matching pattern excludes the path
    kIncluded,  // the last matching pattern is a `!` negation
  };

  GitignoreFile() = default;
  // Never fails: a line git would reject (a lone `!`, `/`) is skipped, an
  // unclosed `[` is a literal `[`.
  static GitignoreFile Parse(std::string_view text);

  // The verdict of this file alone on `path` (relative to the directory that
  // holds the file).
  Verdict Match(std::string_view path, bool is_dir) const;

  size_t rule_count() const { return rules_.size(); }

 private:
  struct Rule {
    std::string pattern;
    bool negate = false;
    bool dir_only = false;
    bool anchored = false;  // matched against the whole relative path
  };
  std::vector<Rule> rules_;
};

// Every .gitignore in force in a tree: those in the root and beneath it, kept
// up to date by the caller as files appear, change and vanish, and optionally
// those in directories above the root (inside the same git repository).
class GitignoreMatcher {
 public:
  // Sets (replaces) the rules of `dir`/.gitignore; `dir` relative to the root.
  void SetFile(const std::string& dir, std::string_view text);
  // Forgets the .gitignore of `dir` (no-op when there is none).
  void RemoveFile(const std::string& dir);
  // Forgets the .gitignore files of `dir` and of every directory beneath it.
  void RemoveUnder(const std::string& dir);
  // Adds the rules of a .gitignore above the root. `root_from_file_dir` is the
  // root's path relative to the directory holding that file ("crates/foo"
  // for a file in the grand-parent). Add the outermost file first.
  void AddOuterFile(const std::string& root_from_file_dir, std::string_view text);

  // Whether git ignores `path`: the path itself or any directory above it.
  bool IsIgnored(std::string_view path, bool is_dir) const;
  // Whether git ignores `path` given that its parent directory is known not to
  // be ignored: only the path's own verdict is computed (cheaper).
  bool IsIgnoredEntry(std::string_view path, bool is_dir) const;

  size_t file_count() const { return files_.size() + outer_.size(); }

 private:
  struct OuterFile {
    std::string prefix;  // root_from_file_dir + "/"
    GitignoreFile rules;
  };
  std::map<std::string, GitignoreFile, std::less<>> files_;  // by directory, relative to the root
  std::vector<OuterFile> outer_;                             // outermost first
};

}  // namespace ferrograph

#endif  // FERROGRAPH_WATCH_GITIGNORE_H_
