// Model provenance: a local model file (a fastText .bin) is loaded only when
// a manifest beside it, signed with Ed25519 (libsodium) by a trusted key,
// says what the file is. A tampered, unsigned or unknown-key model is refused.
//
// The manifest of FILE is FILE.manifest.json:
//   {"format": "ferrograph-model-manifest/1", "file": "fasttext.bin",
//    "size": 81234567, "blake3": "<64 hex>", "model_id": "fasttext-<16 hex>",
//    "public_key": "ed25519:<base64>", "key_id": "<16 hex>",
//    "signature": "<base64 of 64 bytes>"}
// "file" is the file's name without its directory, so a model and its
// manifest move together. The signature covers (ManifestMessage) the format
// line and, length-prefixed, file, size, blake3 and model_id; the key fields
// only say which key made it.
//
// Keys: "ed25519:" + base64 of the 32-byte public key. A key's id is the
// first 16 hex digits of the BLAKE3 of those 32 bytes. The user's key pair
// lives in the config directory (UserConfigDir, config.h): signing_key (the
// secret seed, mode 0600) and signing_key.pub.
//
// Trust: models.trusted_keys and models.allow_unsigned (config.h). Allowing
// unsigned models admits files without a manifest and files signed by a key
// not trusted; a manifest that does not match its file, or whose signature
// is bad, is refused whatever the settings.
//
// Thread safety: all functions may run concurrently; SetModelTrust and
// CurrentModelTrust share one mutex-guarded value.
#ifndef FERROGRAPH_PROVENANCE_H_
#define FERROGRAPH_PROVENANCE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/config.h"
#include "ferrograph/status.h"

namespace ferrograph {

// An Ed25519 key pair. The secret never leaves this object except through
// WriteSigningKey; it is wiped when the object goes.
class SigningKey {
 public:
  // A fresh key pair from the system's random source. Internal when
  // libsodium cannot start.
  static Result<SigningKey> Generate();
  // The key pair of a 32-byte seed (what the secret key file holds).
  static Result<SigningKey> FromSeed(std::string_view seed);

  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  ~SigningKey();

  const std::string& public_key() const { return public_key_; }  // "ed25519:BASE64"
  std::string key_id() const;
  // The 64-byte detached signature of `message`.
  std::string Sign(std::string_view message) const;
  // The 32-byte seed, for the secret key file.
  std::string_view seed() const;

 private:
  SigningKey() = default;
  std::array<unsigned char, 64> secret_{};  // libsodium's: seed then public key
  std::string public_key_;
};

// "ed25519:BASE64" -> its 32 bytes; InvalidArgument naming the text when it
// is not one.
Result<std::string> DecodePublicKey(std::string_view text);
// The key id of a public key text ("" when it is not one).
std::string KeyIdOf(std::string_view public_key);

struct KeyFiles {
  std::string secret_path;  // DIR/signing_key
  std::string public_path;  // DIR/signing_key.pub
};
KeyFiles KeyFilesIn(const std::string& config_dir);

// Writes the key pair: the secret with mode 0600 in a directory made 0700
// when missing. Refuses (InvalidArgument, naming the file) to replace an
// existing secret key unless `overwrite`; IOError when it cannot write.
Status WriteSigningKey(const SigningKey& key, const KeyFiles& files, bool overwrite);
// Reads the key pair of files.secret_path. NotFound when there is none;
// InvalidArgument when the file is not a key or others may read it.
Result<SigningKey> ReadSigningKey(const KeyFiles& files);

struct ModelManifest {
  std::string file;  // the model file's name, no directory
  uint64_t size = 0;
  std::string blake3;    // 64 lowercase hex digits
  std::string model_id;  // what the embedder reports for the file
  std::string public_key;
  std::string key_id;
  std::string signature;  // base64
};

// FILE + ".manifest.json".
std::string ManifestPath(const std::string& model_path);
// The bytes a manifest's signature covers.
std::string ManifestMessage(const ModelManifest& manifest);
// The id an embedder reports for a local model file: "fasttext-" + the first
// 16 hex digits of the BLAKE3 of its bytes for a fastText model.
// InvalidArgument for any other format.
Result<std::string> LocalModelId(std::string_view bytes);

// Signs the model file at `path` with `key` and writes its manifest beside
// it (a temporary file renamed into place). NotFound/IOError for the file;
// InvalidArgument when it is not a model format ferrograph knows.
Result<ModelManifest> SignModelFile(const std::string& path, const SigningKey& key);

struct ModelTrust {
  std::vector<std::string> trusted_keys;  // "ed25519:BASE64"
  bool allow_unsigned = false;
};
// From config.models; InvalidArgument naming a trusted key that is not one.
Result<ModelTrust> ModelTrustFromConfig(const Config& config);

// What verification found out about a model file it admitted.
struct ModelCheck {
  std::string blake3;    // of the bytes, 64 hex digits
  std::string model_id;  // LocalModelId; "" when the bytes are no known format
  // The manifest, when there is one.
  std::optional<ModelManifest> manifest;
  // True when signed by a trusted key; false when admitted only because
  // unsigned models are allowed (then `unsigned_reason` says why it is
  // unsigned: "no manifest ..." or "signed by key ..., which is not trusted").
  bool trusted = false;
  std::string unsigned_reason;
};

// Checks the bytes of the model file `path` against its manifest and
// `trust`. Messages start with "refused: " and a reason ("unsigned",
// "tampered", "unknown key", "bad manifest") and name the manifest where one
// is involved, not the model file (callers add it as context):
//   unsigned      no manifest (InvalidArgument)
//   unknown key   signed by a key not in trust.trusted_keys (InvalidArgument)
//   tampered      the file differs from what its manifest says, or the
//                 signature does not match the manifest (Corruption)
//   bad manifest  the manifest is not one (Corruption)
Result<ModelCheck> VerifyModelBytes(const std::string& path, std::string_view bytes,
                                    const ModelTrust& trust);
// The same after reading the file (NotFound/IOError naming it).
Result<ModelCheck> VerifyModelFile(const std::string& path, const ModelTrust& trust);

// The trust model loads go by in this process. Until SetModelTrust is called
// it is read on each call from the user's config and the environment
// (LoadConfig with no project); the CLI sets it from the full config.
void SetModelTrust(ModelTrust trust);
Result<ModelTrust> CurrentModelTrust();

}  // namespace ferrograph

#endif  // FERROGRAPH_PROVENANCE_H_
