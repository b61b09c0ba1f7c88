// The MCP protocol: lifecycle, JSON-RPC checks and dispatch (mcp_server.h).
#include "mcp/mcp_server.h"

#include <fmt/core.h>

#include <exception>
#include <utility>

#include "mcp/json_schema.h"
#include "mcp/tools.h"

namespace ferrograph::mcp {

namespace {

using json = nlohmann::json;

constexpr const char* kInstructions =
    "ferrograph answers questions about the indexed Rust workspace from its code graph: "
    "search_code finds code by topic or name; get_node shows one item with its source; callers "
    "and callees walk the call graph; implementations lists a trait's or type's impls; "
    "context_for assembles the code relevant to a question within a token budget; index_status "
    "says what is indexed. Paths are canonical Rust paths (crate::module::Item); a suffix or a "
    "name works too, and an ambiguous one returns the candidates. The server sends "
    "notifications/ferrograph/index_changed when the index gets a new version.";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Error(const json& id, int code, const std::string& message, json data = nullptr) {
  json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = std::move(data);
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

json Response(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

bool ValidId(const json& id) { return id.is_string() || id.is_number_integer(); }

}  // namespace

McpServer::McpServer(Engine* engine, Options options)
    : engine_(engine), options_(std::move(options)) {}

std::string McpServer::OversizedMessageResponse() {
  return Dump(Error(nullptr, kInvalidRequest,
                    fmt::format("Invalid Request: message larger than {} bytes; it was dropped",
                                kMaxMessageBytes)));
}

std::string McpServer::IndexChangedNotification(const json& event) {
  return Dump({{"jsonrpc", "2.0"}, {"method", kIndexChangedMethod}, {"params", event}});
}

std::optional<std::string> McpServer::HandleLine(std::string_view line) {
  json id = nullptr;
  try {
    json message;
    try {
      message = json::parse(line.begin(), line.end());
    } catch (const json::parse_error& e) {
      return Dump(Error(nullptr, kParseError,
                        fmt::format("Parse error: not valid JSON (at byte {})", e.byte)));
    }
    if (message.is_array())
      return Dump(Error(nullptr, kInvalidRequest,
                        "Invalid Request: batches are not supported; send one message per line"));
    if (!message.is_object())
      return Dump(Error(nullptr, kInvalidRequest, "Invalid Request: a message must be an object"));
    bool has_id = message.contains("id");
    if (has_id) {
      if (!ValidId(message["id"]))
        return Dump(Error(nullptr, kInvalidRequest,
                          "Invalid Request: `id` must be a string or an integer"));
      id = message["id"];
    }
    if (!message.contains("method")) {
      // A response to a request of ours; the server sends none.
      if (message.contains("result") || message.contains("error")) return std::nullopt;
      return Dump(Error(id, kInvalidRequest, "Invalid Request: no `method`"));
    }
    if (!message.contains("jsonrpc") || message["jsonrpc"] != "2.0")
      return Dump(Error(id, kInvalidRequest, "Invalid Request: `jsonrpc` must be \"2.0\""));
    if (!message["method"].is_string())
      return Dump(Error(id, kInvalidRequest, "Invalid Request: `method` must be a string"));
    const std::string method = message["method"].get<std::string>();
    json params = message.contains("params") ? message["params"] : json::object();
    if (!has_id) {
      HandleNotification(method);
      return std::nullopt;
    }
    if (!params.is_object())
      return Dump(Error(id, kInvalidParams, "Invalid params: `params` must be an object"));
    return Dump(HandleRequest(method, params, id));
  } catch (const std::exception& e) {
    return Dump(Error(id, kInternalError, std::string("Internal error: ") + e.what()));
  }
}

void McpServer::HandleNotification(const std::string& method) {
  if (method == "notifications/initialized" && initialized_) ready_ = true;
  // notifications/cancelled: requests are answered in order, one at a time;
  // there is nothing in flight to cancel. Others: nothing to do.
}

json McpServer::HandleRequest(const std::string& method, const json& params, const json& id) {
  if (method == "initialize") return Initialize(params, id);
  if (method == "ping") return Response(id, json::object());
  if (!initialized_)
    return Error(id, kNotInitialized,
                 fmt::format("Server not initialized: send `initialize` before `{}`", method));
  if (method == "tools/list") {
    if (params.contains("cursor") && !params["cursor"].is_string())
      return Error(id, kInvalidParams, "Invalid params: `cursor` must be a string",
                   {{"field", "cursor"}});
    json tools = json::array();
    for (const Tool& t : Tools())
      tools.push_back({{"name", t.name},
                       {"title", t.title},
                       {"description", t.description},
                       {"inputSchema", t.input_schema}});
    return Response(id, {{"tools", tools}});
  }
  if (method == "tools/call") return CallTool(params, id);
  return Error(id, kMethodNotFound, fmt::format("Method not found: `{}`", method));
}

json McpServer::Initialize(const json& params, const json& id) {
  if (initialized_) return Error(id, kInvalidRequest, "Invalid Request: already initialized");
  if (!params.contains("protocolVersion") || !params["protocolVersion"].is_string())
    return Error(id, kInvalidParams, "Invalid params: `protocolVersion` must be a string",
                 {{"field", "protocolVersion"}});
  const std::string asked = params["protocolVersion"].get<std::string>();
  std::string version = kProtocolVersions[0];
  for (const char* v : kProtocolVersions)
    if (asked == v) version = v;
  initialized_ = true;
  return Response(
      id,
      {{"protocolVersion", version},
       {"capabilities",
        {{"tools", {{"listChanged", false}}},
         {"experimental", {{"ferrograph/indexChanged", {{"notification", kIndexChangedMethod}}}}}}},
       {"serverInfo", {{"name", "ferrograph"}, {"title", "ferrograph"}, {"version", "0.1.0"}}},
       {"instructions", kInstructions}});
}

json McpServer::CallTool(const json& params, const json& id) {
  if (!params.contains("name") || !params["name"].is_string())
    return Error(id, kInvalidParams, "Invalid params: `name` must be a string",
                 {{"field", "name"}});
  const std::string name = params["name"].get<std::string>();
  const Tool* tool = FindTool(name);
  if (!tool)
    return Error(id, kInvalidParams, fmt::format("Unknown tool: `{}`", name), {{"tool", name}});
  json args = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"]
                                                                             : json::object();
  if (auto violation = CheckArguments(tool->input_schema, args))
    return Error(
        id, kInvalidParams, fmt::format("Invalid params: {}: {}", name, violation->message),
        {{"tool", name},
         {"field", violation->field.empty() ? json("arguments") : json(violation->field)}});
  if (!tools_called_) {
    tools_called_ = true;
    if (options_.before_first_tool) options_.before_first_tool();
  }
  ToolOutput out = tool->run(
      ToolContext{engine_, options_.db_path, options_.context_budget, options_.context_model},
      args);
  json result = {{"content", json::array({{{"type", "text"}, {"text", out.text}}})},
                 {"isError", out.is_error}};
  if (out.structured.is_object()) result["structuredContent"] = std::move(out.structured);
  return Response(id, std::move(result));
}

}  // namespace ferrograph::mcp
