// The CLI's configuration (include/ferrograph/config.h): loaded once per run,
// before a command runs, and applied to what reads it.
#ifndef FERROGRAPH_CLI_CLI_CONFIG_H_
#define FERROGRAPH_CLI_CLI_CONFIG_H_

#include <string>

#include "cli/cli.h"
#include "ferrograph/config.h"

namespace ferrograph::cli {

// The database whose project config applies to `args`: index's (--db, else
// PATH/.ferrograph/graph.db), else FindDatabase's; "" when there is none.
std::string ConfigDatabase(const Args& args);

// Loads the user's config, the project's (config.toml beside `db_path`, when
// not empty) and the FERROGRAPH_* variables, and applies them: model loads go
// by its [models] trust (SetModelTrust), and the openai embedder gets its
// base URL and key from [embeddings.openai] where the environment does not
// set them. Errors name the file, line and key (or the variable).
Status LoadCliConfig(const std::string& db_path);

// What LoadCliConfig loaded (the defaults before it runs).
const Config& ActiveConfig();

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_CLI_CONFIG_H_
