// `ferrograph watch` (watch_command.h).
//
//   main thread:   Watcher::Next → Engine::Index → Engine::Diff → one event
//   signal thread: sigwait(SIGINT, SIGTERM) → Watcher::Stop
//
// The watcher debounces and coalesces changes (src/watch); a batch of any
// size, or a rescan, is one index run: the indexer finds what changed by
// content hash. A batch's paths are handed to the run
// (IndexOptions::changed_paths), which then reads those files only when
// they are files it already knew; at least every kFullScanEvery, and after a
// rescan, a run looks at everything again (files the watcher does not see,
// such as a .gitignore'd module, are caught up then). A run that fails
// with an I/O error (the database locked by another writer, a full disk)
// is tried again with backoff instead of ending the watch.
#include "cli/watch_command.h"

#include <pthread.h>
#include <signal.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "cli/history_commands.h"
#include "watch/watcher.h"

namespace ferrograph::cli {

namespace {

namespace fs = std::filesystem;

// One line of the --json feed on stdout, flushed.
void PrintJsonLine(const json& line) {
  std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
}

// A warning: on stderr, or with --json a line of its own on stdout,
// {"warning": "..."}, beside the change events (which always have
// "version"), so that a consumer of the events sees it.
void PrintWarning(const std::string& message, bool json_out) {
  if (json_out)
    PrintJsonLine({{"warning", message}});
  else
    fmt::print(stderr, "warning: {}\n", message);
}

// Prints one version's change: a JSON line, or a summary and the paths.
void PrintChange(const VersionInfo& to, const VersionInfo& from, const GraphDiff& diff,
                 const IndexReport& report, bool json_out, bool first) {
  if (json_out) {
    json event = ChangeEventJson(to, from, diff);
    event["files_parsed"] = report.files_parsed;
    event["files_read"] = report.files_read;
    event["files_relinked"] = report.files_relinked;
    event["seconds"] = report.seconds;
    PrintJsonLine(event);
    return;
  }
  fmt::print(
      "version #{} {} {}: +{} -{} ~{} nodes ({} moved), +{} -{} edges, {} files parsed{}, "
      "{:.0f} ms\n",
      to.ordinal, to.uuid.str(), TimeText(to.time_ms), diff.added.size(), diff.removed.size(),
      diff.changed.size(), diff.moved.size(), report.delta.edges_added, report.delta.edges_removed,
      report.files_parsed,
      report.files_relinked > 0 ? fmt::format(" ({} resolved again alone)", report.files_relinked)
                                : std::string(),
      report.seconds * 1000);
  if (first) return;  // the catch-up of a whole tree: no lists
  constexpr size_t kShown = 20;
  size_t shown = 0;
  auto list = [&](char mark, const Node& n) {
    if (shown++ < kShown)
      fmt::print("  {} {:<13} {}{}\n", mark, KindName(n.kind), n.path, Where(n));
  };
  for (const Node& n : diff.added) list('+', n);
  for (const Node& n : diff.removed) list('-', n);
  for (const GraphDiff::Change& c : diff.changed) list('~', c.after);
  if (shown > kShown) fmt::print("  ... and {} more\n", shown - kShown);
  std::cout.flush();
  std::fflush(stdout);
}

}  // namespace

int CmdWatch(const Args& args, const IndexOptions& options, const std::string& db) {
  if (args.positional.size() != 1) return Usage("watch needs exactly one PATH", "watch");
  const std::string& root = args.positional[0];
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return Fail(Status::InvalidArgument(root + ": not a directory to watch"));
  bool json_out = args.flags.count("--json");
  WatchOptions wo;
  if (auto it = args.values.find("--debounce"); it != args.values.end()) {
    auto ms = ParseCount(it->second);
    if (!ms || *ms > 60000) return Usage("--debounce wants milliseconds from 0 to 60000", "watch");
    wo.debounce = std::chrono::milliseconds(*ms);
    wo.max_latency = std::max(wo.max_latency, wo.debounce * 4);
  }
  // The database may live inside the tree (its default): never react to it.
  fs::path db_abs = fs::weakly_canonical(fs::absolute(db, ec), ec);
  fs::path root_abs = fs::weakly_canonical(fs::absolute(root, ec), ec);
  fs::path db_rel = db_abs.lexically_relative(root_abs);
  std::string db_dir_rel =
      db_rel.empty() || *db_rel.begin() == ".." ? "" : db_rel.parent_path().generic_string();
  if (!db_dir_rel.empty()) {
    wo.filter = [db_dir_rel](std::string_view path, bool is_dir) {
      return !(path == db_dir_rel ||
               (path.size() > db_dir_rel.size() &&
                path.substr(0, db_dir_rel.size()) == db_dir_rel && path[db_dir_rel.size()] == '/'));
    };
  }

  // SIGINT and SIGTERM go to one thread that stops the watcher; every other
  // thread (the watcher's, the indexer's) inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Engine::Options eo;
  eo.db_path = db;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) return Fail(engine.status());

  // Watch first, then catch up: a change made while the first index runs
  // is in the first batch, not lost.
  auto watcher = Watcher::Start(root, wo);
  if (!watcher.ok()) return Fail(watcher.status());
  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stopping = true;
    (*watcher)->Stop();
  });
  auto stop_signal_thread = [&] {
    if (!stopping.exchange(true)) pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  };

  // One index run; prints the version it made, if any.
  std::optional<VersionInfo> last;
  {
    auto versions = (*engine)->Versions();
    if (!versions.ok()) {
      stop_signal_thread();
      return Fail(versions.status());
    }
    if (!versions->empty()) last = versions->back();
  }
  bool first = true;
  IndexOptions run_options = options;
  run_options.keep_parses = true;  // each run re-parses only what changed
  constexpr auto kFullScanEvery = std::chrono::seconds(60);
  auto last_full_scan = std::chrono::steady_clock::now();
  // `changed`: the batch's paths, or none for a run that looks at everything.
  auto run = [&](std::optional<std::vector<std::string>> changed) -> Status {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_full_scan >= kFullScanEvery) changed.reset();
    if (!changed) last_full_scan = now;
    run_options.changed_paths = std::move(changed);
    FG_ASSIGN_OR_RETURN(IndexReport report, (*engine)->Index(root, run_options));
    for (const std::string& w : report.warnings) PrintWarning(w, json_out);
    if (report.version) {
      VersionInfo from = last.value_or(VersionInfo());
      FG_ASSIGN_OR_RETURN(GraphDiff diff, (*engine)->Diff(from, *report.version, false));
      PrintChange(*report.version, from, diff, report, json_out, first);
      last = report.version;
    }
    first = false;
    return Status::OK();
  };
  // A run that fails for a reason that may pass (an I/O error: the
  // database locked by another writer beyond its busy timeout, a disk
  // full) does not end the watch (with --json it is a line of its own,
  // {"error": "...", "retry_in_s": N}): it is tried again, looking at everything
  // (what the failed run was told of is not lost), after 1 s, then twice as
  // long each time up to 30 s, or at the next change, whichever comes first.
  // Other failures (a corrupt database, one of a newer schema) end it.
  constexpr auto kFirstRetry = std::chrono::seconds(1);
  constexpr auto kMaxRetry = std::chrono::seconds(30);
  std::optional<std::chrono::steady_clock::time_point> retry_at;
  std::chrono::seconds backoff = kFirstRetry;
  auto attempt = [&](std::optional<std::vector<std::string>> changed) -> Status {
    if (retry_at) changed.reset();
    Status st = run(std::move(changed));
    if (st.ok()) {
      retry_at.reset();
      backoff = kFirstRetry;
      return st;
    }
    if (st.code() != StatusCode::kIOError && st.code() != StatusCode::kBusy) return st;
    fmt::print(stderr, "warning: {}; trying again in {} s\n", st.message(), backoff.count());
    std::fflush(stderr);
    // The failed run made no version: the feed says so.
    if (json_out) PrintJsonLine({{"error", st.message()}, {"retry_in_s", backoff.count()}});
    retry_at = std::chrono::steady_clock::now() + backoff;
    backoff = std::min<std::chrono::seconds>(backoff * 2, kMaxRetry);
    return Status::OK();
  };
  Status s = attempt(std::nullopt);
  if (s.ok() && !json_out) {
    fmt::print("watching {} (database {}); Ctrl-C stops\n", root_abs.string(), db_abs.string());
    std::fflush(stdout);
  }
  while (s.ok()) {
    auto wait = std::chrono::milliseconds(1000);
    if (retry_at) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *retry_at - std::chrono::steady_clock::now());
      wait = std::clamp(left, std::chrono::milliseconds(0), wait);
    }
    Result<WatchBatch> batch = (*watcher)->Next(wait);
    if (!batch.ok()) {
      s = batch.status();
      break;
    }
    for (const std::string& w : batch->warnings) PrintWarning(w, json_out);
    if (batch->stopped) break;
    if (batch->paths.empty() && !batch->rescan) {
      if (retry_at && std::chrono::steady_clock::now() >= *retry_at) s = attempt(std::nullopt);
      continue;
    }
    s = batch->rescan ? attempt(std::nullopt) : attempt(std::move(batch->paths));
  }
  stop_signal_thread();
  if (!s.ok()) return Fail(s.WithContext("watching " + root));
  return kExitOk;
}

}  // namespace ferrograph::cli
