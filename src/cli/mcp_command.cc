// `ferrograph mcp` (mcp_command.h).
#include "cli/mcp_command.h"

#include <signal.h>

#include "cli/cli_config.h"
#include "mcp/mcp_server.h"

namespace ferrograph::cli {

int CmdMcp(const Args& args) {
  if (!args.positional.empty()) return Usage("mcp takes no arguments", "mcp");
  auto db = FindDatabase(args);
  if (!db.ok()) return Fail(db.status());
  // A client that closes its end makes writes fail (EPIPE), which ends the
  // server quietly instead of killing it.
  signal(SIGPIPE, SIG_IGN);
  mcp::StdioOptions options;
  options.db_path = *db;
  options.context_budget = ActiveConfig().context.default_budget;
  options.context_model = ActiveConfig().context.model;
  Status s = mcp::RunStdio(options);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

}  // namespace ferrograph::cli
