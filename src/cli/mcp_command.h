// `ferrograph mcp`: the MCP server on stdin/stdout (src/mcp/mcp_server.h).
#ifndef FERROGRAPH_CLI_MCP_COMMAND_H_
#define FERROGRAPH_CLI_MCP_COMMAND_H_

#include "cli/cli.h"

namespace ferrograph::cli {

// Serves MCP over stdio on the database of --db (or the nearest
// .ferrograph/graph.db) until stdin ends; exit 0 then, 1 when the database
// cannot be opened.
int CmdMcp(const Args& args);

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_MCP_COMMAND_H_
