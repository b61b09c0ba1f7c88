// The history commands of the CLI: `log`, `history`, `diff`.
#ifndef FERROGRAPH_CLI_HISTORY_COMMANDS_H_
#define FERROGRAPH_CLI_HISTORY_COMMANDS_H_

#include "cli/cli.h"

namespace ferrograph::cli {

// `ferrograph log`: the kept versions, oldest first.
int CmdLog(const Args& args);
// `ferrograph history PATH`: a node's states across versions.
int CmdHistory(const Args& args);
// `ferrograph diff V1 [V2]`: what changed from V1 to V2 (default: latest).
int CmdDiff(const Args& args);

// The change event of `diff` (one version's change when to = from + 1):
// {"version", "ordinal", "time", "time_ms", "from", "added", "removed",
// "changed", "moved"} with node paths ("from" null for the first version);
// `watch --json` prints these.
json ChangeEventJson(const VersionInfo& to, const VersionInfo& from, const GraphDiff& diff);

// "2026-11-26T08:09:42.123Z"
std::string TimeText(uint64_t time_ms);

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_HISTORY_COMMANDS_H_
