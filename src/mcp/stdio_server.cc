// `ferrograph mcp` on stdin/stdout: the reading loop, the serialized writer
// and the index monitor (mcp_server.h, RunStdio).
#include <errno.h>
#include <unistd.h>

#include <fmt/core.h>

#include <atomic>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "mcp/index_monitor.h"
#include "mcp/line_reader.h"
#include "mcp/mcp_server.h"

namespace ferrograph::mcp {

namespace {

// Whole lines to a descriptor, one writer at a time.
class LineWriter {
 public:
  explicit LineWriter(int fd) : fd_(fd) {}

  // Writes `line` and a newline; false once the descriptor failed (the
  // client went away).
  bool Write(std::string line) {
    line += '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return false;
    size_t done = 0;
    while (done < line.size()) {
      ssize_t n = write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken_ = true;
        return false;
      }
      done += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  std::mutex mutex_;
  bool broken_ = false;  // guarded by mutex_
};

// The thread of Engine::WarmSearch.
struct Warmer {
  Warmer() = default;
  Warmer(const Warmer&) = delete;
  Warmer& operator=(const Warmer&) = delete;
  ~Warmer() {
    stop = true;
    Join();
  }
  void Join() {
    if (thread.joinable()) thread.join();
  }
  std::atomic<bool> stop{false};
  std::thread thread;
};

}  // namespace

Status RunStdio(const StdioOptions& options) {
  Engine::Options eo;
  eo.db_path = options.db_path;
  eo.read_only = true;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) return engine.status().WithContext("opening " + options.db_path);
  // The warm-up has the engine to itself until the first tool call joins it;
  // on any way out, it is told to stop and joined.
  Warmer warmer;
  try {
    warmer.thread = std::thread([&] {
      Status s = (*engine)->WarmSearch(warmer.stop);
      // The first search meets the same failure and reports it to the client.
      if (!s.ok()) fmt::print(stderr, "ferrograph mcp: preparing search: {}\n", s.message());
    });
  } catch (const std::system_error&) {
    // No thread to be had: the first search loads what it needs itself.
  }
  McpServer server(engine->get(), {options.db_path, options.context_budget, options.context_model,
                                   [&] { warmer.Join(); }});
  LineWriter out(options.out_fd);

  IndexMonitor::Options mo;
  mo.db_path = options.db_path;
  mo.interval = options.poll_interval;
  auto monitor = IndexMonitor::Start(mo, [&](const nlohmann::json& event) {
    if (!server.ready()) return false;
    out.Write(McpServer::IndexChangedNotification(event));
    return true;
  });
  if (!monitor.ok()) return monitor.status().WithContext("watching " + options.db_path);

  LineReader in(options.in_fd, kMaxMessageBytes);
  std::string line;
  for (;;) {
    LineReader::Event e = in.Next(&line);
    if (e == LineReader::Event::kEnd) break;
    if (e == LineReader::Event::kOversized) {
      if (!out.Write(McpServer::OversizedMessageResponse())) break;
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank
    std::optional<std::string> response = server.HandleLine(line);
    if (response && !out.Write(std::move(*response))) break;
  }
  (*monitor)->Stop();
  return Status::OK();
}

}  // namespace ferrograph::mcp
