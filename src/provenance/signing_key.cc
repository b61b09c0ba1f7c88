// Ed25519 key pairs (libsodium) and the user's key files.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ferrograph/provenance.h"
#include "hash/blake3_hasher.h"
#include "provenance/sodium_util.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPublicPrefix = "ed25519:";
constexpr std::string_view kSecretPrefix = "ed25519-secret-seed:";

std::string Errno() { return std::strerror(errno); }

// Writes `text` to `path` with `mode` through a temporary file renamed into
// place; with `overwrite` false the rename refuses to replace a file.
Status WriteFile(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IOError(tmp + ": cannot create: " + Errno());
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  std::string error = ok ? "" : Errno();
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return Status::IOError(path + ": cannot write: " + (error.empty() ? Errno() : error));
  }
  // link() fails when the target exists: no replacing a key by accident,
  // even with two keygens at once.
  int rc = overwrite ? ::rename(tmp.c_str(), path.c_str()) : ::link(tmp.c_str(), path.c_str());
  int saved = errno;
  if (!overwrite || rc != 0) ::unlink(tmp.c_str());
  if (rc != 0) {
    if (saved == EEXIST) {
      return Status::InvalidArgument(path + " exists; not replacing it (use --force)");
    }
    return Status::IOError(path + ": cannot write: " + std::strerror(saved));
  }
  return Status::OK();
}

}  // namespace

Result<SigningKey> SigningKey::Generate() {
  FG_RETURN_IF_ERROR(InitSodium());
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed;
  randombytes_buf(seed.data(), seed.size());
  Result<SigningKey> key =
      FromSeed(std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Result<SigningKey> SigningKey::FromSeed(std::string_view seed) {
  FG_RETURN_IF_ERROR(InitSodium());
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return Status::InvalidArgument("an Ed25519 seed has 32 bytes, not " +
                                   std::to_string(seed.size()));
  }
  static_assert(crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_PUBLICKEYBYTES == 32);
  SigningKey key;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.secret_.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  key.public_key_ =
      std::string(kPublicPrefix) + Base64(std::string_view(reinterpret_cast<char*>(pk), sizeof pk));
  return key;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

std::string SigningKey::key_id() const { return KeyIdOf(public_key_); }

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return sig;
}

std::string_view SigningKey::seed() const {
  return std::string_view(reinterpret_cast<const char*>(secret_.data()), crypto_sign_SEEDBYTES);
}

Result<std::string> DecodePublicKey(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("\"" + std::string(text) +
                                   "\" is not a public key (ed25519:BASE64 of 32 bytes)");
  };
  if (text.substr(0, kPublicPrefix.size()) != kPublicPrefix) return bad();
  std::optional<std::string> raw = Unbase64(text.substr(kPublicPrefix.size()));
  if (!raw || raw->size() != crypto_sign_PUBLICKEYBYTES) return bad();
  return *raw;
}

std::string KeyIdOf(std::string_view public_key) {
  Result<std::string> raw = DecodePublicKey(public_key);
  if (!raw.ok()) return "";
  return HashBytes(*raw).str().substr(0, 16);
}

KeyFiles KeyFilesIn(const std::string& config_dir) {
  fs::path dir(config_dir);
  return {(dir / "signing_key").string(), (dir / "signing_key.pub").string()};
}

Status WriteSigningKey(const SigningKey& key, const KeyFiles& files, bool overwrite) {
  std::error_code ec;
  fs::path dir = fs::path(files.secret_path).parent_path();
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(dir.string() + ": cannot create: " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  if (!overwrite && fs::exists(files.secret_path, ec)) {
    return Status::InvalidArgument(files.secret_path +
                                   " exists; not replacing the key (use --force)");
  }
  std::string secret = std::string(kSecretPrefix) + Base64(key.seed()) + "\n";
  Status s = WriteFile(files.secret_path, secret, 0600, overwrite);
  sodium_memzero(secret.data(), secret.size());
  FG_RETURN_IF_ERROR(s);
  return WriteFile(files.public_path, key.public_key() + "\n", 0644, /*overwrite=*/true);
}

Result<SigningKey> ReadSigningKey(const KeyFiles& files) {
  const std::string& path = files.secret_path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no signing key");
    return Status::IOError(path + ": " + Errno());
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Status::InvalidArgument(path + ": permissions " + mode +
                                   " let others read the secret key; run chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot read: " + Errno());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::optional<std::string> seed;
  if (text.substr(0, kSecretPrefix.size()) == kSecretPrefix) {
    seed = Unbase64(std::string_view(text).substr(kSecretPrefix.size()));
  }
  sodium_memzero(text.data(), text.size());
  if (!seed || seed->size() != crypto_sign_SEEDBYTES) {
    return Status::InvalidArgument(path + ": not a ferrograph signing key");
  }
  Result<SigningKey> key = SigningKey::FromSeed(*seed);
  sodium_memzero(seed->data(), seed->size());
  return key;
}

}  // namespace ferrograph
