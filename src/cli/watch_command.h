// `ferrograph watch PATH`: index, then keep the index current as files
// change, one version per batch of changes, printing each version's change.
#ifndef FERROGRAPH_CLI_WATCH_COMMAND_H_
#define FERROGRAPH_CLI_WATCH_COMMAND_H_

#include <string>

#include "cli/cli.h"

namespace ferrograph::cli {

// Runs until SIGINT or SIGTERM (exit 0) or an error (exit 1). `options` and
// `db` as `index` builds them.
int CmdWatch(const Args& args, const IndexOptions& options, const std::string& db);

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_WATCH_COMMAND_H_
