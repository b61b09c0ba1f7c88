#include "watch/gitignore.h"

#include <cctype>

namespace ferrograph {
namespace {

// Whether `ch` is in the POSIX class `name` ("alpha", "digit", ...); unknown
// names match nothing.
bool InPosixClass(std::string_view name, unsigned char ch) {
  if (name == "alnum") return std::isalnum(ch);
  if (name == "alpha") return std::isalpha(ch);
  if (name == "blank") return ch == ' ' || ch == '\t';
  if (name == "cntrl") return std::iscntrl(ch);
  if (name == "digit") return std::isdigit(ch);
  if (name == "graph") return std::isgraph(ch);
  if (name == "lower") return std::islower(ch);
  if (name == "print") return std::isprint(ch);
  if (name == "punct") return std::ispunct(ch);
  if (name == "space") return std::isspace(ch);
  if (name == "upper") return std::isupper(ch);
  if (name == "xdigit") return std::isxdigit(ch);
  return false;
}

// Matches the class starting at p[pi] == '[' against `ch`. Returns the index
// just past the closing `]` and sets *matched, or returns npos when the class
// is not closed (the `[` is then a literal).
size_t MatchClass(std::string_view p, size_t pi, char ch, bool* matched) {
  size_t j = pi + 1;
  bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
  if (negate) ++j;
  bool hit = false;
  bool first = true;
  while (j < p.size() && (p[j] != ']' || first)) {
    first = false;
    if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
      size_t close = p.find(":]", j + 2);
      if (close != std::string_view::npos) {
        if (InPosixClass(p.substr(j + 2, close - j - 2), static_cast<unsigned char>(ch))) {
          hit = true;
        }
        j = close + 2;
        continue;
      }
    }
    char lo = p[j];
    if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      j += 2;
      char hi = p[j];
      if (hi == '\\' && j + 1 < p.size()) hi = p[++j];
      if (lo <= ch && ch <= hi) hit = true;
      ++j;
    } else {
      if (ch == lo) hit = true;
      ++j;
    }
  }
  if (j >= p.size()) return std::string_view::npos;
  *matched = hit != negate;
  return j + 1;
}

bool GlobMatchAt(std::string_view p, size_t pi, std::string_view s, size_t si) {
  while (pi < p.size()) {
    char c = p[pi];
    if (c == '*') {
      size_t stars_end = pi;
      while (stars_end < p.size() && p[stars_end] == '*') ++stars_end;
      bool whole_component = stars_end - pi >= 2 && (pi == 0 || p[pi - 1] == '/') &&
                             (stars_end == p.size() || p[stars_end] == '/');
      if (whole_component) {
        if (stars_end == p.size()) return true;  // trailing `**`: everything beneath
        size_t rest = stars_end + 1;             // after `**/`: zero or more directories
        if (GlobMatchAt(p, rest, s, si)) return true;
        for (size_t k = si; k < s.size(); ++k) {
          if (s[k] == '/' && GlobMatchAt(p, rest, s, k + 1)) return true;
        }
        return false;
      }
      pi = stars_end;  // `*` (or `**` inside a component): anything but `/`
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
      bool matched = false;
      size_t next = MatchClass(p, pi, ch, &matched);
      if (next != std::string_view::npos) {
        if (ch == '/' || !matched) return false;
        pi = next;
        ++si;
        continue;
      }
      // Not closed: a literal `[`.
    }
    if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
    if (c != ch) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool GitignoreGlobMatch(std::string_view pattern, std::string_view path) {
  return GlobMatchAt(pattern, 0, path, 0);
}

GitignoreFile GitignoreFile::Parse(std::string_view text) {
  GitignoreFile file;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // Trailing spaces go unless escaped: "a\ " keeps its last space.
    while (!line.empty() && line.back() == ' ') {
      size_t backslashes = 0;
      for (size_t i = line.size() - 1; i > 0 && line[i - 1] == '\\'; --i) ++backslashes;
      if (backslashes % 2 == 1) break;
      line.pop_back();
    }
    Rule rule;
    if (!line.empty() && line[0] == '!') {
      rule.negate = true;
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.dir_only = true;
      line.pop_back();
    }
    rule.anchored = line.find('/') != std::string::npos;
    if (!line.empty() && line[0] == '/') line.erase(0, 1);
    if (line.empty()) continue;
    rule.pattern = std::move(line);
    file.rules_.push_back(std::move(rule));
  }
  return file;
}

GitignoreFile::Verdict GitignoreFile::Match(std::string_view path, bool is_dir) const {
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    if (it->dir_only && !is_dir) continue;
    if (GitignoreGlobMatch(it->pattern, it->anchored ? path : Basename(path))) {
      return it->negate ? Verdict::kIncluded : Verdict::kIgnored;
    }
  }
  return Verdict::kNoMatch;
}

void GitignoreMatcher::SetFile(const std::string& dir, std::string_view text) {
  files_[dir] = GitignoreFile::Parse(text);
}

void GitignoreMatcher::RemoveFile(const std::string& dir) { files_.erase(dir); }

void GitignoreMatcher::RemoveUnder(const std::string& dir) {
  if (dir.empty()) {
    files_.clear();
    return;
  }
  files_.erase(dir);
  const std::string prefix = dir + "/";
  auto it = files_.lower_bound(prefix);
  while (it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = files_.erase(it);
  }
}

void GitignoreMatcher::AddOuterFile(const std::string& root_from_file_dir, std::string_view text) {
  outer_.push_back(OuterFile{root_from_file_dir + "/", GitignoreFile::Parse(text)});
}

bool GitignoreMatcher::IsIgnoredEntry(std::string_view path, bool is_dir) const {
  using Verdict = GitignoreFile::Verdict;
  // The files of the directories above `path`, deepest first.
  if (!files_.empty()) {
    size_t end = path.size();
    while (true) {
      size_t slash = end == 0 ? std::string_view::npos : path.rfind('/', end - 1);
      auto it =
          files_.find(slash == std::string_view::npos ? std::string_view() : path.substr(0, slash));
      if (it != files_.end()) {
        std::string_view rel = slash == std::string_view::npos ? path : path.substr(slash + 1);
        Verdict v = it->second.Match(rel, is_dir);
        if (v != Verdict::kNoMatch) return v == Verdict::kIgnored;
      }
      if (slash == std::string_view::npos) break;
      end = slash;
    }
  }
  for (auto it = outer_.rbegin(); it != outer_.rend(); ++it) {
    std::string rel = it->prefix;
    rel.append(path);
    Verdict v = it->rules.Match(rel, is_dir);
    if (v != Verdict::kNoMatch) return v == Verdict::kIgnored;
  }
  return false;
}

bool GitignoreMatcher::IsIgnored(std::string_view path, bool is_dir) const {
  if (files_.empty() && outer_.empty()) return false;
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (IsIgnoredEntry(path.substr(0, slash), true)) return true;
  }
  return IsIgnoredEntry(path, is_dir);
}

}  // namespace ferrograph
