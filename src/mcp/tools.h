// The tools the MCP server offers: each one's name, description and input
// schema (as tools/list publishes them) and how it answers over an Engine.
//
// Tools only query the database: none takes a file-system path, and node
// source comes from the stored graph, so nothing outside the indexed root
// is read. Arguments are checked against the schema before a tool runs
// (CheckArguments); a tool's own failures (nothing matches, several things
// match, a database error) come back as a ToolOutput with is_error set.
//
// Thread safety: the table is immutable; a tool uses the Engine it is given
// (one Engine per thread).
#ifndef FERROGRAPH_MCP_TOOLS_H_
#define FERROGRAPH_MCP_TOOLS_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ferrograph/engine.h"

namespace ferrograph::mcp {

// What a tools/call returns, before it becomes a CallToolResult: `text` is
// the content block a model reads, `structured` the structuredContent
// (null: none).
struct ToolOutput {
  std::string text;
  nlohmann::json structured;
  bool is_error = false;
};

// What the tools run with.
struct ToolContext {
  Engine* engine = nullptr;  // not owned
  std::string db_path;       // as given on the command line, for index_status
  // context_for's budget when none is asked for, and its tokenizer.
  int64_t context_budget = 8000;
  std::string context_model = "cl100k_base";
};

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;
  // Runs with arguments that satisfy input_schema.
  std::function<ToolOutput(const ToolContext&, const nlohmann::json& args)> run;
};

// search_code, get_node, callers, callees, implementations, context_for,
// index_status; in that order.
const std::vector<Tool>& Tools();
// nullptr when no tool has that name.
const Tool* FindTool(const std::string& name);

// ISO 8601 UTC with milliseconds: "2026-11-26T08:09:42.123Z".
std::string TimeText(uint64_t time_ms);

}  // namespace ferrograph::mcp

#endif  // FERROGRAPH_MCP_TOOLS_H_
