// The context commands of the CLI: `context` (the code a question needs,
// within a token budget) and `ask` (that context sent to a chat model, the
// answer streamed).
#ifndef FERROGRAPH_CLI_CONTEXT_COMMANDS_H_
#define FERROGRAPH_CLI_CONTEXT_COMMANDS_H_

#include "cli/cli.h"

namespace ferrograph::cli {

extern const char* const kContextHelp;
extern const char* const kAskHelp;

// `ferrograph context QUESTION`: prints the assembled context document.
int CmdContext(const Args& args);
// `ferrograph ask QUESTION`: streams a chat model's answer, then the sources.
int CmdAsk(const Args& args);

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_CONTEXT_COMMANDS_H_
