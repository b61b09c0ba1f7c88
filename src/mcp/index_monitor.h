// IndexMonitor: notices new versions of a database that another process
// (`ferrograph index`, `ferrograph watch`) commits, and reports each as a
// change event.
//
// A thread of its own polls the versions with its own read-only Engine
// every `interval`; when the latest version is not the last one reported,
// it diffs the two (Engine::Diff) and hands the event to the listener. One
// event may cover several versions committed between two polls: "from" is
// the last version reported, "version" the newest.
//
// The listener runs on the monitor's thread; it returns false when it could
// not take the event yet (the client is not initialized), and the same
// change is offered again, grown by any newer versions, at the next poll.
#ifndef FERROGRAPH_MCP_INDEX_MONITOR_H_
#define FERROGRAPH_MCP_INDEX_MONITOR_H_

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ferrograph/engine.h"

namespace ferrograph::mcp {

// The change event of `from` -> `to`:
//   {"version", "ordinal", "time", "time_ms", "from", "from_ordinal",
//    "added", "removed", "changed", "moved", "counts", "truncated"}
// with node paths, each list cut to its first `max_paths` ("counts" has the
// full sizes; "truncated" says whether any list was cut). "from" is null
// when there was no version before.
nlohmann::json ChangeEvent(const VersionInfo& to, const std::optional<VersionInfo>& from,
                           const GraphDiff& diff, size_t max_paths);

class IndexMonitor {
 public:
  struct Options {
    std::string db_path;
    // How often the versions are read.
    std::chrono::milliseconds interval{500};
    // Node paths per list of an event.
    size_t max_paths = 200;
  };
  using Listener = std::function<bool(const nlohmann::json& event)>;

  // Opens the database read-only, remembers its latest version (changes
  // from there on are reported) and starts polling. Fails when the
  // database cannot be opened.
  static Result<std::unique_ptr<IndexMonitor>> Start(const Options& options, Listener listener);
  // Stops and joins the thread.
  ~IndexMonitor();
  // Stops polling; the listener is not called after this returns.
  void Stop();

 private:
  IndexMonitor(const Options& options, std::unique_ptr<Engine> engine,
               std::optional<VersionInfo> last, Listener listener);
  void Run();
  void Poll();

  const Options options_;
  std::unique_ptr<Engine> engine_;  // used only by thread_
  std::optional<VersionInfo> last_;
  Listener listener_;
  bool reported_error_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace ferrograph::mcp

#endif  // FERROGRAPH_MCP_INDEX_MONITOR_H_
