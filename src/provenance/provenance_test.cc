#include "ferrograph/provenance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "provenance/sodium_util.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Enough of a fastText file for provenance: its magic, then anything.
std::string FakeFastText(char fill) {
  std::string bytes("\xba\x16\x4f\x2f", 4);
  bytes += std::string(1000, fill);
  return bytes;
}

class ProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("provenance_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto k = SigningKey::Generate();
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    key_.emplace(*k);
    model_ = Path("model.bin");
    WriteAll(model_, FakeFastText('a'));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  ModelTrust Trusting(const SigningKey& k, bool allow_unsigned = false) const {
    return ModelTrust{{k.public_key()}, allow_unsigned};
  }

  fs::path dir_;
  std::optional<SigningKey> key_;
  std::string model_;
};

TEST_F(ProvenanceTest, KeyFromSeedMatchesRfc8032) {
  // RFC 8032, section 7.1, TEST 1.
  auto k = SigningKey::FromSeed(
      Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->public_key(),
            "ed25519:" +
                Base64(Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")));
  EXPECT_EQ(k->Sign(""), Unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                               "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_THAT(k->key_id(), MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(SigningKey::FromSeed("short").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProvenanceTest, PublicKeysDecodeOrSayWhy) {
  EXPECT_TRUE(DecodePublicKey(key_->public_key()).ok());
  for (const char* bad : {"", "ed25519:", "ed25519:AAAA", "rsa:AAAA", "ed25519:!!!"}) {
    auto r = DecodePublicKey(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("is not a public key")) << bad;
  }
  EXPECT_EQ(KeyIdOf("nonsense"), "");
  EXPECT_EQ(KeyIdOf(key_->public_key()), key_->key_id());
}

TEST_F(ProvenanceTest, SignedByTrustedKeyIsAdmitted) {
  auto m = SignModelFile(model_, *key_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->file, "model.bin");
  EXPECT_EQ(m->size, FakeFastText('a').size());
  EXPECT_THAT(m->model_id, MatchesRegex("fasttext-[0-9a-f]{16}"));
  EXPECT_EQ(m->model_id, *LocalModelId(FakeFastText('a')));
  EXPECT_EQ(m->public_key, key_->public_key());
  ASSERT_TRUE(fs::exists(ManifestPath(model_)));
  EXPECT_EQ(ManifestPath(model_), model_ + ".manifest.json");
  auto j = nlohmann::json::parse(ReadAll(ManifestPath(model_)));
  EXPECT_EQ(j["format"], "ferrograph-model-manifest/1");
  EXPECT_EQ(j["blake3"], m->blake3);
  EXPECT_EQ(j["key_id"], key_->key_id());

  auto c = VerifyModelFile(model_, Trusting(*key_));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->trusted);
  EXPECT_EQ(c->model_id, m->model_id);
  EXPECT_EQ(c->blake3, m->blake3);
  ASSERT_TRUE(c->manifest.has_value());
  EXPECT_EQ(c->manifest->signature, m->signature);

  // A model and its manifest move together.
  fs::create_directories(dir_ / "elsewhere");
  fs::rename(model_, Path("elsewhere/model.bin"));
  fs::rename(ManifestPath(model_), ManifestPath(Path("elsewhere/model.bin")));
  EXPECT_TRUE(VerifyModelFile(Path("elsewhere/model.bin"), Trusting(*key_)).ok());
}

TEST_F(ProvenanceTest, UnsignedIsRefusedUnlessAllowed) {
  auto c = VerifyModelFile(model_, Trusting(*key_));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), StartsWith("refused: unsigned: no manifest " + model_));
  EXPECT_THAT(c.status().message(), HasSubstr("ferrograph model sign"));
  EXPECT_THAT(c.status().message(), HasSubstr("FERROGRAPH_ALLOW_UNSIGNED_MODELS=1"));

  c = VerifyModelFile(model_, Trusting(*key_, /*allow_unsigned=*/true));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->trusted);
  EXPECT_THAT(c->unsigned_reason, HasSubstr("no manifest"));
  EXPECT_THAT(c->model_id, StartsWith("fasttext-"));
}

TEST_F(ProvenanceTest, UnknownKeyIsRefusedUnlessAllowed) {
  ASSERT_TRUE(SignModelFile(model_, *key_).ok());
  auto other = SigningKey::Generate();
  ASSERT_TRUE(other.ok());
  auto c = VerifyModelFile(model_, Trusting(*other));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), StartsWith("refused: unknown key: " + ManifestPath(model_)));
  EXPECT_THAT(c.status().message(), HasSubstr(key_->key_id()));
  EXPECT_THAT(c.status().message(), HasSubstr(key_->public_key()));
  EXPECT_FALSE(VerifyModelFile(model_, ModelTrust{}).ok());

  c = VerifyModelFile(model_, Trusting(*other, /*allow_unsigned=*/true));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->trusted);
  EXPECT_THAT(c->unsigned_reason, HasSubstr("not trusted"));
}

TEST_F(ProvenanceTest, TamperedFileIsRefusedEvenWhenUnsignedIsAllowed) {
  ASSERT_TRUE(SignModelFile(model_, *key_).ok());
  std::string bytes = ReadAll(model_);
  bytes[500] ^= 1;
  WriteAll(model_, bytes);
  for (bool allow : {false, true}) {
    auto c = VerifyModelFile(model_, Trusting(*key_, allow));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(c.status().message(), StartsWith("refused: tampered: the file's contents differ"));
    EXPECT_THAT(c.status().message(), HasSubstr(ManifestPath(model_)));
  }
  // Longer or shorter alike.
  WriteAll(model_, FakeFastText('a') + "x");
  EXPECT_THAT(VerifyModelFile(model_, Trusting(*key_)).status().message(),
              HasSubstr("refused: tampered"));
}

TEST_F(ProvenanceTest, TamperedOrForeignManifestIsRefused) {
  ASSERT_TRUE(SignModelFile(model_, *key_).ok());
  const std::string good = ReadAll(ManifestPath(model_));
  // A manifest edited to match another file: its signature no longer does.
  WriteAll(Path("other.bin"), FakeFastText('b'));
  auto other = SignModelFile(Path("other.bin"), *key_);
  ASSERT_TRUE(other.ok());
  auto j = nlohmann::json::parse(good);
  j["blake3"] = other->blake3;
  j["model_id"] = other->model_id;
  WriteAll(model_, FakeFastText('b'));
  WriteAll(ManifestPath(model_), j.dump());
  auto c = VerifyModelFile(model_, Trusting(*key_, true));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("refused: tampered: the manifest's signature"));

  // Another file's genuine manifest.
  fs::copy_file(ManifestPath(Path("other.bin")), ManifestPath(model_),
                fs::copy_options::overwrite_existing);
  c = VerifyModelFile(model_, Trusting(*key_));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("is for \"other.bin\", not \"model.bin\""));

  // Not a manifest at all.
  WriteAll(ManifestPath(model_), "{\"format\": 2}");
  c = VerifyModelFile(model_, Trusting(*key_, true));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(c.status().message(), StartsWith("refused: bad manifest " + ManifestPath(model_)));
  WriteAll(ManifestPath(model_), "not json");
  EXPECT_THAT(VerifyModelFile(model_, Trusting(*key_)).status().message(),
              HasSubstr("bad manifest"));
}

TEST_F(ProvenanceTest, OnlyKnownModelFormatsAreSigned) {
  WriteAll(Path("notes.txt"), "hello");
  auto m = SignModelFile(Path("notes.txt"), *key_);
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr("notes.txt: not a model format"));
  EXPECT_FALSE(fs::exists(ManifestPath(Path("notes.txt"))));
  EXPECT_EQ(SignModelFile(Path("missing.bin"), *key_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LocalModelId("hello").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProvenanceTest, KeyFilesArePrivateAndNotReplacedByAccident) {
  KeyFiles files = KeyFilesIn(Path("cfg/ferrograph"));
  EXPECT_EQ(files.secret_path, Path("cfg/ferrograph/signing_key"));
  EXPECT_EQ(ReadSigningKey(files).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteSigningKey(*key_, files, /*overwrite=*/false).ok());
  struct stat st;
  ASSERT_EQ(::stat(files.secret_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(Path("cfg/ferrograph").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(ReadAll(files.public_path), key_->public_key() + "\n");
  auto back = ReadSigningKey(files);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key(), key_->public_key());
  EXPECT_EQ(back->Sign("m"), key_->Sign("m"));

  auto other = SigningKey::Generate();
  ASSERT_TRUE(other.ok());
  Status s = WriteSigningKey(*other, files, /*overwrite=*/false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--force"));
  EXPECT_EQ(ReadSigningKey(files)->public_key(), key_->public_key());
  ASSERT_TRUE(WriteSigningKey(*other, files, /*overwrite=*/true).ok());
  EXPECT_EQ(ReadSigningKey(files)->public_key(), other->public_key());

  ::chmod(files.secret_path.c_str(), 0644);
  auto open = ReadSigningKey(files);
  EXPECT_EQ(open.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(open.status().message(), HasSubstr("chmod 600"));
  WriteAll(files.secret_path, "garbage");
  ::chmod(files.secret_path.c_str(), 0600);
  EXPECT_THAT(ReadSigningKey(files).status().message(), HasSubstr("not a ferrograph signing key"));
}

TEST_F(ProvenanceTest, TrustComesFromConfigOrIsSet) {
  Config config;
  config.models.trusted_keys = {key_->public_key()};
  config.models.allow_unsigned = true;
  auto t = ModelTrustFromConfig(config);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->allow_unsigned);
  EXPECT_EQ(t->trusted_keys, config.models.trusted_keys);
  config.models.trusted_keys.push_back("ed25519:nope");
  t = ModelTrustFromConfig(config);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("models.trusted_keys: \"ed25519:nope\""));

  SetModelTrust(Trusting(*key_));
  auto current = CurrentModelTrust();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->trusted_keys.size(), 1u);
  EXPECT_FALSE(current->allow_unsigned);
}

}  // namespace
}  // namespace ferrograph
