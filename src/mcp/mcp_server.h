// The MCP server of ferrograph: the Model Context Protocol (2025-06-18; 2025-03-26
// and 2024-11-05 clients are answered in their version) over JSON-RPC 2.0,
// offering the code graph's tools to a coding agent. `ferrograph mcp` runs
// it on stdin/stdout (RunStdio).
//
// Protocol, as McpServer answers one message (one line of the stdio
// transport) at a time:
//   - initialize (first; once), ping (any time), tools/list, tools/call;
//     notifications/initialized marks the client ready (change
//     notifications start); other notifications are ignored; messages that
//     answer a request (result/error, no method) are ignored, as the server
//     sends no requests.
//   - Errors: -32700 invalid JSON (id null); -32600 not a request object, a
//     batch (an array: batches are not supported, as MCP 2025-06-18 removed
//     them), no or bad "jsonrpc"/"method", an id not a string or integer
//     (id null), a line over kMaxMessageBytes, a second initialize; -32601
//     unknown method; -32602 bad params: unknown tool, or tool arguments
//     that do not satisfy the tool's inputSchema (data: {"tool","field"});
//     -32002 a request other than initialize or ping before initialize;
//     -32603 an internal error. A notification never gets a response.
//   - A tool's own failure (nothing or several things match, a database
//     error) is a result with isError: true, not a protocol error.
//   - Each tool result has content [{type:"text", text}] and, unless it
//     failed plainly, structuredContent (an object).
//   - While running, each new version of the database (indexed by another
//     process) is announced to a ready client with the notification
//     "notifications/ferrograph/index_changed", params: the change event
//     (index_monitor.h).
//
// Thread safety: McpServer is used from one thread (it queries its Engine);
// ready() may be read from any.
#ifndef FERROGRAPH_MCP_MCP_SERVER_H_
#define FERROGRAPH_MCP_MCP_SERVER_H_

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ferrograph/engine.h"
#include "ferrograph/status.h"

namespace ferrograph::mcp {

// The largest message read: 1 MiB.
inline constexpr size_t kMaxMessageBytes = 1 << 20;
// The versions of MCP spoken, newest first; a client asking for another is
// answered with the first.
inline constexpr const char* kProtocolVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};
inline constexpr const char* kIndexChangedMethod = "notifications/ferrograph/index_changed";

// JSON-RPC error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kNotInitialized = -32002;

class McpServer {
 public:
  struct Options {
    std::string db_path;  // reported by index_status
    // context_for's default budget and tokenizer ([context] in the config).
    int64_t context_budget = 8000;
    std::string context_model = "cl100k_base";
    // Called once, before the first tool call touches the engine (RunStdio:
    // waits for the search warm-up running on another thread to finish).
    std::function<void()> before_first_tool = {};
  };
  // `engine` answers the tools; not owned, must outlive the server.
  McpServer(Engine* engine, Options options);

  // Answers one message (a line without its newline): the response line
  // (no newline), or nullopt when none is due (a notification, a response).
  // Never throws; any input gives a well-formed answer.
  std::optional<std::string> HandleLine(std::string_view line);

  // The response to a line longer than kMaxMessageBytes, which was dropped.
  static std::string OversizedMessageResponse();

  // The index_changed notification line carrying `event`.
  static std::string IndexChangedNotification(const nlohmann::json& event);

  // The client has sent notifications/initialized.
  bool ready() const { return ready_.load(); }

 private:
  nlohmann::json HandleRequest(const std::string& method, const nlohmann::json& params,
                               const nlohmann::json& id);
  void HandleNotification(const std::string& method);
  nlohmann::json Initialize(const nlohmann::json& params, const nlohmann::json& id);
  nlohmann::json CallTool(const nlohmann::json& params, const nlohmann::json& id);

  Engine* engine_;
  const Options options_;
  bool initialized_ = false;   // initialize was answered
  bool tools_called_ = false;  // before_first_tool has run
  std::atomic<bool> ready_{false};
};

struct StdioOptions {
  std::string db_path;
  int64_t context_budget = 8000;
  std::string context_model = "cl100k_base";
  int in_fd = 0;
  int out_fd = 1;
  // How often the database is checked for new versions.
  std::chrono::milliseconds poll_interval{500};
};

// Serves MCP on in_fd/out_fd until end of input (or until out_fd is
// closed): one message per line each way, responses in request order,
// notifications between them (writes are serialized). While the client
// starts up, another thread loads what searches need (Engine::WarmSearch),
// so that the first search does not wait for the vector index to load; the
// first tool call waits for it to finish. Fails only when the database
// cannot be opened; the caller should ignore SIGPIPE.
Status RunStdio(const StdioOptions& options);

}  // namespace ferrograph::mcp

#endif  // FERROGRAPH_MCP_MCP_SERVER_H_
