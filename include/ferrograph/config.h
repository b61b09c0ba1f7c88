// Config: ferrograph's settings, from TOML files and the environment.
//
// Three layers, each overriding the one before it key by key:
//   1. the user's file, $XDG_CONFIG_HOME/ferrograph/config.toml (XDG_CONFIG_HOME
//      defaults to ~/.config);
//   2. the project's file, .ferrograph/config.toml under the indexed root
//      (beside the default database);
//   3. FERROGRAPH_* environment variables.
// A missing file is not an error. Every key, its default and its variable are
// listed in the README ("Configuration").
//
// [models] is the exception to the layering: it decides which model files
// may be loaded, and a project's files are not trusted to vouch for the
// project's own models. A project file that sets a [models] key is an error;
// those keys come from the user's file and the environment only.
//
// Errors: a file that is not valid TOML, a key of the wrong type or out of
// range, or an unknown key or table fails with InvalidArgument naming the file,
// the line and the key ("/home/u/.config/ferrograph/config.toml:3: key
// models.allow_unsigned: expected a boolean, got a string"); a malformed
// variable names the variable. An unreadable file is an IOError naming it.
//
// Thread safety: LoadConfig may run on any thread (it only reads); the Config
// it returns is a value.
#ifndef FERROGRAPH_CONFIG_H_
#define FERROGRAPH_CONFIG_H_

#include <functional>
#include <string>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

struct Config {
  struct Models {
    // Load local model files that have no manifest, or whose manifest is
    // signed by a key not in trusted_keys. A manifest that does not match
    // its file is refused all the same.
    bool allow_unsigned = false;
    // Public keys ("ed25519:BASE64", as `ferrograph model keygen` prints)
    // whose signed manifests make a model file loadable.
    std::vector<std::string> trusted_keys;
  };
  struct Index {
    // Embedder specs `index` uses when given no --embedder. Empty: the ones
    // the database remembers ("hash" the first time).
    std::vector<std::string> embedders;
    int jobs = 0;  // parser threads; 0 = one per core
  };
  // For `ask` (an OpenAI-compatible chat completions server).
  struct Llm {
    std::string base_url = "http://localhost:11434/v1";
    std::string model = "qwen2.5-coder";
    std::string api_key_env = "OPENAI_API_KEY";  // the variable that holds the key
    int timeout_seconds = 120;
    int max_retries = 3;
  };
  // The openai embedder (`--embedder openai[:MODEL]`).
  struct OpenAIEmbeddings {
    std::string base_url = "http://localhost:11434/v1";
    std::string model = "nomic-embed-text";
    std::string api_key_env = "OPENAI_API_KEY";
  };
  struct Context {
    int default_budget = 8000;          // tokens
    std::string model = "cl100k_base";  // the tokenizer that counts them
  };

  Models models;
  Index index;
  Llm llm;
  OpenAIEmbeddings openai_embeddings;  // [embeddings.openai]
  Context context;
  // The files that were read, lowest precedence first.
  std::vector<std::string> sources;
};

// Reads an environment variable: null when unset. Tests pass a fake.
using ConfigEnv = std::function<const char*(const char* name)>;

// The process environment (std::getenv).
ConfigEnv ProcessEnv();

// $XDG_CONFIG_HOME/ferrograph, else $HOME/.config/ferrograph (a relative
// XDG_CONFIG_HOME is ignored, as the XDG spec says); "" when neither is set.
// Where the user's config.toml and signing key live.
std::string UserConfigDir(const ConfigEnv& env);

// PROJECT_DIR/.ferrograph/config.toml.
std::string ProjectConfigFile(const std::string& project_dir);

struct ConfigSources {
  std::string user_file;     // "" = none
  std::string project_file;  // "" = none
  ConfigEnv env;             // null = no variables
};

// The defaults, overridden by the user's file, the project's file
// (ProjectConfigFile(project_dir); none when project_dir is empty) and the
// process environment.
Result<Config> LoadConfig(const std::string& project_dir);
// The same from explicit files and environment.
Result<Config> LoadConfig(const ConfigSources& sources);

// Adds `public_key` to models.trusted_keys in the TOML file `path` (created,
// with its directory, when missing), leaving the rest of the file as it is.
// OK when the key is already there. InvalidArgument when the file is not
// valid TOML or holds [models] in a shape this cannot edit (the message says
// what line to add by hand); IOError when it cannot be written.
Status AddTrustedKey(const std::string& path, const std::string& public_key);

}  // namespace ferrograph

#endif  // FERROGRAPH_CONFIG_H_
