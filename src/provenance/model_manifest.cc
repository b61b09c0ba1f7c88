// Signed model manifests: writing them and checking model files against them.
#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ferrograph/provenance.h"
#include "hash/blake3_hasher.h"
#include "provenance/sodium_util.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kFormat = "ferrograph-model-manifest/1";
// libfasttext's file magic (int32, little-endian) at offset 0.
constexpr unsigned char kFastTextMagic[4] = {0xba, 0x16, 0x4f, 0x2f};

std::string FileName(const std::string& path) { return fs::path(path).filename().string(); }

// The model id of bytes whose BLAKE3 is `digest_hex`; "" for an unknown
// format. The fastText rule is the one LoadFastTextModel reports.
std::string ModelIdFor(std::string_view bytes, const std::string& digest_hex) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), kFastTextMagic, 4) == 0) {
    return "fasttext-" + digest_hex.substr(0, 16);
  }
  return "";
}

// A file's bytes, mapped read-only (a model is tens of megabytes: reading it
// into a buffer costs more than hashing it).
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path + ": no such file");
      return Status::IOError(path + ": cannot open: " + std::strerror(errno));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::IOError(path + ": not a regular file");
    }
    MappedFile f;
    f.size_ = static_cast<size_t>(st.st_size);
    if (f.size_ > 0) {
      void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        std::string e = std::strerror(errno);
        ::close(fd);
        return Status::IOError(path + ": cannot map: " + e);
      }
      f.data_ = p;
    }
    ::close(fd);
    return f;
  }
  MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr; }
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  std::string_view bytes() const {
    return data_ == nullptr ? std::string_view()
                            : std::string_view(static_cast<char*>(data_), size_);
  }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
};

Result<std::string> ReadFile(const std::string& path) {
  FG_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(path));
  return std::string(f.bytes());
}

json ManifestJson(const ModelManifest& m) {
  return {{"format", kFormat},  {"file", m.file},          {"size", m.size},
          {"blake3", m.blake3}, {"model_id", m.model_id},  {"public_key", m.public_key},
          {"key_id", m.key_id}, {"signature", m.signature}};
}

Result<ModelManifest> ParseManifest(const std::string& manifest_path, const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption("refused: bad manifest " + manifest_path + ": " + why);
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat) {
    return bad("not a ferrograph model manifest (format \"" + std::string(kFormat) + "\")");
  }
  ModelManifest m;
  auto string_field = [&](const char* name, std::string* out) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  for (auto [name, out] : {std::pair{"file", &m.file},
                           {"blake3", &m.blake3},
                           {"model_id", &m.model_id},
                           {"public_key", &m.public_key},
                           {"signature", &m.signature}}) {
    if (!string_field(name, out)) return bad(std::string("no string field \"") + name + "\"");
  }
  string_field("key_id", &m.key_id);  // informative only
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned()) return bad("no size");
  m.size = size->get<uint64_t>();
  return m;
}

}  // namespace

std::string ManifestPath(const std::string& model_path) { return model_path + ".manifest.json"; }

std::string ManifestMessage(const ModelManifest& m) {
  std::string msg(kFormat);
  msg += "\nfile " + std::to_string(m.file.size()) + " " + m.file;
  msg += "\nsize " + std::to_string(m.size);
  msg += "\nblake3 " + std::to_string(m.blake3.size()) + " " + m.blake3;
  msg += "\nmodel_id " + std::to_string(m.model_id.size()) + " " + m.model_id + "\n";
  return msg;
}

Result<std::string> LocalModelId(std::string_view bytes) {
  std::string id = ModelIdFor(bytes, HashBytes(bytes).str());
  if (id.empty()) {
    return Status::InvalidArgument("not a model format ferrograph knows (a fastText .bin)");
  }
  return id;
}

Result<ModelManifest> SignModelFile(const std::string& path, const SigningKey& key) {
  FG_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  const std::string_view bytes = file.bytes();
  ModelManifest m;
  m.file = FileName(path);
  m.size = bytes.size();
  m.blake3 = HashBytes(bytes).str();
  m.model_id = ModelIdFor(bytes, m.blake3);
  if (m.model_id.empty()) {
    return Status::InvalidArgument(path +
                                   ": not a model format ferrograph knows (a fastText .bin)");
  }
  m.public_key = key.public_key();
  m.key_id = key.key_id();
  m.signature = Base64(key.Sign(ManifestMessage(m)));
  std::string text;
  try {
    text = ManifestJson(m).dump(2) + "\n";
  } catch (const json::exception&) {
    return Status::InvalidArgument(path + ": the file name is not UTF-8; rename the model");
  }
  const std::string out = ManifestPath(path);
  const std::string tmp = out + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Status::IOError(tmp + ": cannot write");
    }
  }
  std::error_code ec;
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::IOError(out + ": cannot write: " + ec.message());
  }
  return m;
}

Result<ModelTrust> ModelTrustFromConfig(const Config& config) {
  ModelTrust trust;
  trust.allow_unsigned = config.models.allow_unsigned;
  for (const std::string& k : config.models.trusted_keys) {
    Result<std::string> raw = DecodePublicKey(k);
    if (!raw.ok()) return raw.status().WithContext("models.trusted_keys");
    trust.trusted_keys.push_back(k);
  }
  return trust;
}

Result<ModelCheck> VerifyModelBytes(const std::string& path, std::string_view bytes,
                                    const ModelTrust& trust) {
  FG_RETURN_IF_ERROR(InitSodium());
  ModelCheck check;
  check.blake3 = HashBytes(bytes).str();
  check.model_id = ModelIdFor(bytes, check.blake3);
  const std::string manifest_path = ManifestPath(path);
  const std::string how_to_allow =
      "allow unsigned models with models.allow_unsigned = true in the user's config or "
      "FERROGRAPH_ALLOW_UNSIGNED_MODELS=1";

  Result<std::string> text = ReadFile(manifest_path);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    check.unsigned_reason = "no manifest " + manifest_path;
    if (trust.allow_unsigned) return check;
    return Status::InvalidArgument("refused: unsigned: no manifest " + manifest_path +
                                   "; sign the model with `ferrograph model sign " + path +
                                   "`, or " + how_to_allow);
  }
  if (!text.ok()) return text.status().WithContext("refused: bad manifest");
  FG_ASSIGN_OR_RETURN(ModelManifest m, ParseManifest(manifest_path, *text));

  auto tampered = [&](const std::string& why) {
    return Status::Corruption("refused: tampered: " + why + " (manifest " + manifest_path + ")");
  };
  Result<std::string> public_key = DecodePublicKey(m.public_key);
  if (!public_key.ok()) {
    return Status::Corruption("refused: bad manifest " + manifest_path + ": " +
                              public_key.status().message());
  }
  std::optional<std::string> signature = Unbase64(m.signature);
  const std::string message = ManifestMessage(m);
  if (!signature || signature->size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(
          reinterpret_cast<const unsigned char*>(signature->data()),
          reinterpret_cast<const unsigned char*>(message.data()), message.size(),
          reinterpret_cast<const unsigned char*>(public_key->data())) != 0) {
    return tampered("the manifest's signature does not match its contents");
  }
  if (m.file != FileName(path)) {
    return tampered("the manifest is for \"" + m.file + "\", not \"" + FileName(path) +
                    "\" (a renamed model needs signing again)");
  }
  if (m.size != bytes.size() || m.blake3 != check.blake3) {
    return tampered("the file's contents differ from the signed ones (" +
                    std::to_string(bytes.size()) + " bytes, BLAKE3 " + check.blake3.substr(0, 16) +
                    "...; signed: " + std::to_string(m.size) + " bytes, BLAKE3 " +
                    m.blake3.substr(0, 16) + "...)");
  }
  if (m.model_id != check.model_id) {
    return tampered("the manifest names model " + m.model_id + ", the file is " +
                    (check.model_id.empty() ? "no known model format" : check.model_id));
  }
  check.manifest = m;
  const std::string key_id = KeyIdOf(m.public_key);
  if (std::find(trust.trusted_keys.begin(), trust.trusted_keys.end(), m.public_key) !=
      trust.trusted_keys.end()) {
    check.trusted = true;
    return check;
  }
  check.unsigned_reason = "signed by key " + key_id + ", which is not trusted";
  if (trust.allow_unsigned) return check;
  return Status::InvalidArgument("refused: unknown key: " + manifest_path + " is signed by key " +
                                 key_id + " (" + m.public_key +
                                 "), which is not in models.trusted_keys; trust it by adding it "
                                 "there (user config or FERROGRAPH_TRUSTED_KEYS), or " +
                                 how_to_allow);
}

Result<ModelCheck> VerifyModelFile(const std::string& path, const ModelTrust& trust) {
  FG_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return VerifyModelBytes(path, file.bytes(), trust);
}

}  // namespace ferrograph
