// Polling the versions of a database for changes (index_monitor.h).
#include "mcp/index_monitor.h"

#include <fmt/core.h>

#include "mcp/tools.h"

namespace ferrograph::mcp {

namespace {

using json = nlohmann::json;

template <typename T, typename PathOf>
json Paths(const std::vector<T>& items, size_t max, PathOf path_of, bool* truncated) {
  json out = json::array();
  for (const T& item : items) {
    if (out.size() == max) {
      *truncated = true;
      break;
    }
    out.push_back(path_of(item));
  }
  return out;
}

}  // namespace

json ChangeEvent(const VersionInfo& to, const std::optional<VersionInfo>& from,
                 const GraphDiff& diff, size_t max_paths) {
  bool truncated = false;
  auto node_path = [](const Node& n) { return n.path; };
  auto change_path = [](const GraphDiff::Change& c) { return c.after.path; };
  json event = {{"version", to.uuid.str()},
                {"ordinal", to.ordinal},
                {"time", TimeText(to.time_ms)},
                {"time_ms", to.time_ms},
                {"from", from ? json(from->uuid.str()) : json(nullptr)},
                {"from_ordinal", from ? json(from->ordinal) : json(nullptr)},
                {"added", Paths(diff.added, max_paths, node_path, &truncated)},
                {"removed", Paths(diff.removed, max_paths, node_path, &truncated)},
                {"changed", Paths(diff.changed, max_paths, change_path, &truncated)},
                {"moved", Paths(diff.moved, max_paths, change_path, &truncated)},
                {"counts",
                 {{"added", diff.added.size()},
                  {"removed", diff.removed.size()},
                  {"changed", diff.changed.size()},
                  {"moved", diff.moved.size()}}}};
  event["truncated"] = truncated;
  return event;
}

Result<std::unique_ptr<IndexMonitor>> IndexMonitor::Start(const Options& options,
                                                          Listener listener) {
  Engine::Options eo;
  eo.db_path = options.db_path;
  eo.read_only = true;
  FG_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(eo));
  FG_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, engine->Versions());
  std::optional<VersionInfo> last;
  if (!versions.empty()) last = versions.back();
  return std::unique_ptr<IndexMonitor>(
      new IndexMonitor(options, std::move(engine), std::move(last), std::move(listener)));
}

IndexMonitor::IndexMonitor(const Options& options, std::unique_ptr<Engine> engine,
                           std::optional<VersionInfo> last, Listener listener)
    : options_(options),
      engine_(std::move(engine)),
      last_(std::move(last)),
      listener_(std::move(listener)) {
  thread_ = std::thread([this] { Run(); });
}

IndexMonitor::~IndexMonitor() { Stop(); }

void IndexMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IndexMonitor::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) break;
    lock.unlock();
    Poll();
    lock.lock();
  }
}

void IndexMonitor::Poll() {
  auto report = [this](const Status& s) {
    // Once: a database being rewritten fails a poll now and then; the next
    // poll tries again.
    if (!reported_error_)
      fmt::print(stderr, "ferrograph mcp: watching the index: {}\n", s.message());
    reported_error_ = true;
  };
  auto versions = engine_->Versions();
  if (!versions.ok()) return report(versions.status());
  if (versions->empty()) return;
  const VersionInfo& latest = versions->back();
  if (last_ && last_->ordinal == latest.ordinal && last_->uuid == latest.uuid) return;
  // A database replaced by one with fewer versions starts from nothing.
  std::optional<VersionInfo> from = last_;
  if (from && from->ordinal > latest.ordinal) from.reset();
  auto diff = engine_->Diff(from.value_or(VersionInfo()), latest, /*with_edges=*/false);
  if (!diff.ok()) return report(diff.status());
  if (listener_(ChangeEvent(latest, from, *diff, options_.max_paths))) last_ = latest;
}

}  // namespace ferrograph::mcp
