// Engine: versions named by the user, answering as of one, node history,
// diffs between versions, and dropping old versions.
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "ferrograph/engine.h"
#include "search/search_index.h"
#include "search/searcher.h"
#include "store/store.h"

namespace ferrograph {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string Iso8601(uint64_t time_ms) {
  time_t secs = static_cast<time_t>(time_ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

}  // namespace

std::optional<uint64_t> ParseTimeSpec(const std::string& text) {
  if (text.size() > 1 && text[0] == '@') {
    if (!AllDigits(std::string_view(text).substr(1))) return std::nullopt;
    return std::stoull(text.substr(1)) * 1000;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, consumed = 0;
  double sec = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 || consumed != 10)
    return std::nullopt;
  size_t pos = 10;
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
    ++pos;
    int n = 0;
    if (std::sscanf(text.c_str() + pos, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
      return std::nullopt;
    pos += 5;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      size_t end = pos;
      while (end < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
        ++end;
      if (end == pos) return std::nullopt;
      sec = std::stod(text.substr(pos, end - pos));
      pos = end;
    }
    if (pos < text.size()) {
      char z = text[pos];
      if ((z == 'Z' || z == 'z') && pos + 1 == text.size()) {
        pos = text.size();
      } else if (z == '+' || z == '-') {
        int oh = 0, om = 0, m = 0;
        if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5 ||
            pos + 1 + 5 != text.size())
          return std::nullopt;
        offset_seconds = (z == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        pos = text.size();
      } else {
        return std::nullopt;
      }
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
    return std::nullopt;
  struct tm tm_utc = {};
  tm_utc.tm_year = y - 1900;
  tm_utc.tm_mon = mo - 1;
  tm_utc.tm_mday = d;
  tm_utc.tm_hour = h;
  tm_utc.tm_min = mi;
  time_t t = timegm(&tm_utc);
  if (t < 0) return std::nullopt;
  int64_t ms = (static_cast<int64_t>(t) - offset_seconds) * 1000 + static_cast<int64_t>(sec * 1000);
  if (ms < 0) return std::nullopt;
  return static_cast<uint64_t>(ms);
}

Result<std::vector<VersionInfo>> Engine::Versions() { return store_->Versions(); }

Result<VersionInfo> Engine::ResolveVersion(const std::string& spec) {
  FG_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, store_->Versions());
  if (versions.empty())
    return Status::NotFound("the database has no versions yet; run `ferrograph index` first");
  const VersionInfo& oldest = versions.front();
  auto oldest_text = [&] {
    return "#" + std::to_string(oldest.ordinal) + " of " + Iso8601(oldest.time_ms);
  };
  if (spec == "latest" || spec == "HEAD") return versions.back();
  std::string_view digits = spec;
  if (!digits.empty() && digits[0] == '#') digits.remove_prefix(1);
  if (AllDigits(digits)) {
    int64_t ordinal = std::stoll(std::string(digits));
    for (const VersionInfo& v : versions)
      if (v.ordinal == ordinal) return v;
    if (ordinal < oldest.ordinal && ordinal > 0)
      return Status::NotFound("version #" + std::to_string(ordinal) +
                              " was dropped by `ferrograph gc --keep` (the oldest kept is " +
                              oldest_text() + ")");
    return Status::NotFound("no version #" + std::to_string(ordinal) + " (the versions are #" +
                            std::to_string(oldest.ordinal) + " to #" +
                            std::to_string(versions.back().ordinal) + ")");
  }
  if (auto uuid = Version::Parse(spec)) {
    for (const VersionInfo& v : versions)
      if (v.uuid == *uuid) return v;
    return Status::NotFound("no version " + spec +
                            " in this database (dropped by gc, or from another database)");
  }
  if (auto ms = ParseTimeSpec(spec)) {
    const VersionInfo* found = nullptr;
    for (const VersionInfo& v : versions)
      if (v.time_ms <= *ms) found = &v;
    if (!found)
      return Status::NotFound("no version at or before " + Iso8601(*ms) + " (the oldest kept is " +
                              oldest_text() + ")");
    return *found;
  }
  return Status::InvalidArgument(
      "`" + spec +
      "` names no version: give a version UUID, its number (12 or #12), `latest`, or a time "
      "(2026-11-26, 2026-11-26T08:00:00Z, 2026-11-26T09:00+01:00, @UNIX_SECONDS)");
}

Result<VersionInfo> Engine::PinVersion(const std::string& spec) {
  FG_ASSIGN_OR_RETURN(VersionInfo v, ResolveVersion(spec));
  store_->SetReadVersion(v.ordinal);
  searcher_.reset();
  return v;
}

std::optional<int64_t> Engine::pinned_version() const { return store_->read_version(); }

Result<std::vector<NodeRevision>> Engine::History(const std::string& query, bool with_source,
                                                  int limit) {
  FG_ASSIGN_OR_RETURN(std::vector<NodeRevision> revs, store_->NodeRevisions(query, limit));
  if (revs.empty() && query.find("::") != std::string::npos) {
    // A public path through `pub use` re-exports (tokio::sync::Mutex for
    // tokio::sync::mutex::Mutex), as of the version read.
    FG_ASSIGN_OR_RETURN(std::vector<Node> found, FindThroughReExports(query, 50));
    for (const Node& n : found) {
      FG_ASSIGN_OR_RETURN(std::vector<NodeRevision> more, store_->NodeRevisions(n.id.str(), limit));
      for (NodeRevision& r : more) revs.push_back(std::move(r));
    }
  }
  // Consecutive rows of one node with the same content (it only moved) are
  // one state, valid from the first's version to the last's end, where the
  // last one puts it.
  std::vector<NodeRevision> states;
  for (NodeRevision& r : revs) {
    if (!states.empty()) {
      NodeRevision& prev = states.back();
      if (prev.node.id == r.node.id && prev.node.content_hash == r.node.content_hash &&
          prev.valid_to == r.valid_from) {
        int64_t from = prev.valid_from;
        prev = std::move(r);
        prev.valid_from = from;
        continue;
      }
    }
    states.push_back(std::move(r));
  }
  revs = std::move(states);
  if (with_source) {
    for (NodeRevision& r : revs) {
      FG_ASSIGN_OR_RETURN(r.source, store_->RevisionSource(r.node.id, r.valid_from));
    }
  }
  return revs;
}

Result<GraphDiff> Engine::Diff(const VersionInfo& from, const VersionInfo& to, bool with_edges) {
  return store_->Diff(from.ordinal, to.ordinal, with_edges);
}

Result<HistoryGcReport> Engine::DropOldVersions(int64_t keep) {
  if (keep < 1) return Status::InvalidArgument("gc --keep wants at least 1 version to keep");
  FG_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, store_->Versions());
  HistoryGcReport r;
  if (static_cast<int64_t>(versions.size()) <= keep) return r;
  int64_t keep_from = versions[versions.size() - static_cast<size_t>(keep)].ordinal;
  FG_ASSIGN_OR_RETURN(r, store_->DropVersionsBefore(keep_from));
  // Fill the emptied lexical index again from the kept rows.
  FG_RETURN_IF_ERROR(store_->CatchUpLexical(LexicalIdentifiers).status());
  searcher_.reset();
  return r;
}

}  // namespace ferrograph
