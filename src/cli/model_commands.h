// `ferrograph model keygen|sign|verify`, and the signing of what
// `model train` writes (provenance.h).
#ifndef FERROGRAPH_CLI_MODEL_COMMANDS_H_
#define FERROGRAPH_CLI_MODEL_COMMANDS_H_

#include <string>

#include "cli/cli.h"

namespace ferrograph::cli {

// Runs `model keygen [--force]`, `model sign FILE [--json]` or
// `model verify FILE [--json]` (args.positional[0] is the subcommand); any
// other subcommand is a usage error. Returns the exit code:
//   keygen  a key pair in the user's config directory (the secret mode
//           0600), its public key added to models.trusted_keys there; an
//           existing key is replaced only with --force.
//   sign    FILE.manifest.json with the user's key.
//   verify  0 only when FILE matches a manifest signed by a trusted key
//           (allow_unsigned does not count here).
int RunModelCommand(const Args& args);

// Signs the model `path` that `model train` just wrote with the user's key;
// when there is none yet, creates one, trusts it in the user's config and
// says so on stderr.
Status SignTrainedModel(const std::string& path);

}  // namespace ferrograph::cli

#endif  // FERROGRAPH_CLI_MODEL_COMMANDS_H_
