// `ferrograph model keygen|sign|verify` (model_commands.h).
#include "cli/model_commands.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/cli_config.h"
#include "ferrograph/config.h"
#include "ferrograph/provenance.h"

namespace ferrograph::cli {
namespace {

namespace fs = std::filesystem;

struct UserKeyPlace {
  std::string dir;
  KeyFiles files;
  std::string config_file;
};

Result<UserKeyPlace> UserKeys() {
  std::string dir = UserConfigDir(ProcessEnv());
  if (dir.empty()) {
    return Status::NotFound(
        "no user config directory: set XDG_CONFIG_HOME or HOME (keys live in "
        "$XDG_CONFIG_HOME/ferrograph, default ~/.config/ferrograph)");
  }
  return UserKeyPlace{dir, KeyFilesIn(dir), (fs::path(dir) / "config.toml").string()};
}

// Makes a key pair, writes it and trusts it in the user's config (and in
// this process).
Result<SigningKey> CreateUserKey(const UserKeyPlace& place, bool overwrite) {
  FG_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate());
  FG_RETURN_IF_ERROR(WriteSigningKey(key, place.files, overwrite));
  Status trusted = AddTrustedKey(place.config_file, key.public_key());
  if (!trusted.ok()) {
    return trusted.WithContext("wrote the key " + place.files.secret_path +
                               " but could not trust it");
  }
  Result<ModelTrust> trust = CurrentModelTrust();
  if (trust.ok()) {
    trust->trusted_keys.push_back(key.public_key());
    SetModelTrust(*trust);
  }
  return key;
}

bool IsTrusted(const std::string& public_key) {
  Result<ModelTrust> trust = CurrentModelTrust();
  return trust.ok() && std::find(trust->trusted_keys.begin(), trust->trusted_keys.end(),
                                 public_key) != trust->trusted_keys.end();
}

void WarnIfUntrusted(const SigningKey& key, const UserKeyPlace& place) {
  if (IsTrusted(key.public_key())) return;
  std::cerr << "ferrograph: warning: your key " << key.key_id()
            << " is not in models.trusted_keys, so what it signs is refused here; add \""
            << key.public_key() << "\" to [models] trusted_keys in " << place.config_file << "\n";
}

bool OnlyOptions(const Args& args, std::initializer_list<const char*> allowed) {
  auto ok = [&](const std::string& k) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
  };
  for (const auto& [k, v] : args.values)
    if (!ok(k)) return false;
  for (const auto& [k, v] : args.flags)
    if (k != "--help" && !ok(k)) return false;
  return true;
}

int Keygen(const Args& args) {
  if (args.positional.size() != 1 || !OnlyOptions(args, {"--force", "--db"}))
    return Usage("model keygen takes no arguments; options: --force", "model");
  auto place = UserKeys();
  if (!place.ok()) return Fail(place.status());
  auto key = CreateUserKey(*place, args.flags.count("--force") > 0);
  if (!key.ok()) return Fail(key.status());
  fmt::print(
      "created a signing key\n  key id:     {}\n  public key: {}\n  secret key: {} (mode 0600)\n"
      "  trusted in: {}\nsign a model: ferrograph model sign FILE\n",
      key->key_id(), key->public_key(), place->files.secret_path, place->config_file);
  return kExitOk;
}

json ManifestJson(const ModelManifest& m) {
  return {{"file", m.file},         {"size", m.size},     {"blake3", m.blake3},
          {"model_id", m.model_id}, {"key_id", m.key_id}, {"public_key", m.public_key}};
}

int Sign(const Args& args) {
  if (args.positional.size() != 2 || !OnlyOptions(args, {"--json", "--db"}))
    return Usage("model sign needs exactly one FILE; options: --json", "model");
  const std::string& file = args.positional[1];
  auto place = UserKeys();
  if (!place.ok()) return Fail(place.status());
  auto key = ReadSigningKey(place->files);
  if (!key.ok()) {
    if (key.status().code() == StatusCode::kNotFound)
      return Fail(key.status().WithContext("cannot sign " + file +
                                           " (run `ferrograph model "
                                           "keygen` first)"));
    return Fail(key.status());
  }
  auto m = SignModelFile(file, *key);
  if (!m.ok()) return Fail(m.status().WithContext("signing " + file));
  if (args.flags.count("--json")) {
    json j = ManifestJson(*m);
    j["manifest"] = ManifestPath(file);
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("signed {} -> {}\n  model {}, {} bytes, BLAKE3 {}\n  key id {}\n", file,
               ManifestPath(file), m->model_id, m->size, m->blake3, m->key_id);
  }
  WarnIfUntrusted(*key, *place);
  return kExitOk;
}

int Verify(const Args& args) {
  if (args.positional.size() != 2 || !OnlyOptions(args, {"--json", "--db"}))
    return Usage("model verify needs exactly one FILE; options: --json", "model");
  const std::string& file = args.positional[1];
  auto trust = CurrentModelTrust();
  if (!trust.ok()) return Fail(trust.status());
  trust->allow_unsigned = false;  // verify answers whether it is signed and trusted
  auto check = VerifyModelFile(file, *trust);
  if (!check.ok()) return Fail(check.status().WithContext("model " + file));
  const ModelManifest& m = *check->manifest;
  if (args.flags.count("--json")) {
    json j = ManifestJson(m);
    j["ok"] = true;
    j["manifest"] = ManifestPath(file);
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("ok: {}\n  model {}, {} bytes, BLAKE3 {}\n  signed by trusted key {} ({})\n", file,
               m.model_id, m.size, m.blake3, m.key_id, m.public_key);
  }
  return kExitOk;
}

}  // namespace

int RunModelCommand(const Args& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (sub == "keygen") return Keygen(args);
  if (sub == "sign") return Sign(args);
  if (sub == "verify") return Verify(args);
  return Usage("model wants a subcommand: train, keygen, sign or verify", "model");
}

Status SignTrainedModel(const std::string& path) {
  FG_ASSIGN_OR_RETURN(UserKeyPlace place, UserKeys());
  Result<SigningKey> key = ReadSigningKey(place.files);
  if (!key.ok() && key.status().code() == StatusCode::kNotFound) {
    key = CreateUserKey(place, /*overwrite=*/false);
    if (key.ok()) {
      std::cerr << "ferrograph: created a signing key " << place.files.secret_path << " (key id "
                << key->key_id() << ") and trusted it in " << place.config_file
                << "; models you train are signed with it\n";
    }
  }
  if (!key.ok()) return key.status().WithContext("signing " + path);
  FG_ASSIGN_OR_RETURN(ModelManifest m, SignModelFile(path, *key).WithContext("signing " + path));
  std::cerr << "ferrograph: signed " << path << " with key " << m.key_id << " -> "
            << ManifestPath(path) << "\n";
  WarnIfUntrusted(*key, place);
  return Status::OK();
}

}  // namespace ferrograph::cli
