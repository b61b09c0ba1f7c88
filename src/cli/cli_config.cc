// The CLI's configuration (cli_config.h).
#include "cli/cli_config.h"

#include <cstdlib>
#include <filesystem>

#include "ferrograph/provenance.h"

namespace ferrograph::cli {
namespace {

namespace fs = std::filesystem;

Config& MutableConfig() {
  static auto* config = new Config;
  return *config;
}

}  // namespace

std::string ConfigDatabase(const Args& args) {
  if (args.command == "index") {
    if (auto it = args.values.find("--db"); it != args.values.end()) return it->second;
    return args.positional.empty() ? "" : DefaultDatabasePath(args.positional[0]);
  }
  Result<std::string> db = FindDatabase(args);
  return db.ok() ? *db : "";
}

Status LoadCliConfig(const std::string& db_path) {
  ConfigSources sources;
  sources.env = ProcessEnv();
  std::string user_dir = UserConfigDir(sources.env);
  if (!user_dir.empty()) sources.user_file = (fs::path(user_dir) / "config.toml").string();
  if (!db_path.empty()) {
    std::error_code ec;
    sources.project_file =
        (fs::absolute(db_path, ec).parent_path() / "config.toml").lexically_normal().string();
  }
  FG_ASSIGN_OR_RETURN(Config config, LoadConfig(sources));
  FG_ASSIGN_OR_RETURN(ModelTrust trust, ModelTrustFromConfig(config));
  SetModelTrust(std::move(trust));
  // The openai embedder reads its endpoint and key from the environment
  // (embed/embedder.h); the config fills in what the environment leaves
  // unset (config.base_url already holds FERROGRAPH_OPENAI_BASE_URL when set).
  const Config::OpenAIEmbeddings& openai = config.openai_embeddings;
  ::setenv("FERROGRAPH_OPENAI_BASE_URL", openai.base_url.c_str(), 1);
  const char* ours = std::getenv("FERROGRAPH_OPENAI_API_KEY");
  if ((ours == nullptr || *ours == '\0') && !openai.api_key_env.empty()) {
    const char* key = std::getenv(openai.api_key_env.c_str());
    if (key != nullptr && *key != '\0') ::setenv("FERROGRAPH_OPENAI_API_KEY", key, 1);
  }
  MutableConfig() = std::move(config);
  return Status::OK();
}

const Config& ActiveConfig() { return MutableConfig(); }

}  // namespace ferrograph::cli
