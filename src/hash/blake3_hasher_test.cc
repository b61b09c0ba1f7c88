#include "hash/blake3_hasher.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace ferrograph {
namespace {

// The input of the official test vectors: bytes 0..250 repeating.
std::string VectorInput(size_t len) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

// First 32 bytes of the "hash" field of BLAKE3's published
// test_vectors/test_vectors.json.
struct Vector {
  size_t len;
  const char* hash;
};
constexpr Vector kVectors[] = {
    {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
    {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
    {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
    {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
    {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
    {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
    {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
    {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
    {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
    {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
    {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
    {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
    {5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
    {6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
    {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
    {7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
    {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
};

TEST(Blake3HasherTest, MatchesPublishedTestVectors) {
  for (const Vector& v : kVectors) {
    std::string expected = v.hash;
    ASSERT_EQ(expected.size(), 64u) << "mistyped vector for input_len " << v.len;
    EXPECT_EQ(HashBytes(VectorInput(v.len)).str(), expected) << "input_len " << v.len;
  }
}

TEST(Blake3HasherTest, IncrementalEqualsOneShot) {
  std::string input = VectorInput(100000);
  Blake3Hasher h;
  for (size_t off = 0; off < input.size(); off += 977)
    h.Update(std::string_view(input).substr(off, 977));
  EXPECT_EQ(h.Finalize(), HashBytes(input));
}

TEST(Blake3HasherTest, AgreesWithB3sum) {
  if (std::system("command -v b3sum >/dev/null 2>&1") != 0) GTEST_SKIP() << "b3sum not installed";
  std::string path = testing::TempDir() + "/b3sum_input.bin";
  std::string input = VectorInput(300000) + "ferrograph";
  {
    std::ofstream out(path, std::ios::binary);
    out << input;
  }
  std::string cmd = "b3sum --no-names " + path;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[128] = {0};
  ASSERT_NE(fgets(buf, sizeof(buf), pipe), nullptr);
  pclose(pipe);
  std::string got(buf);
  got = got.substr(0, 64);
  EXPECT_EQ(got, HashBytes(input).str());
}

TEST(Blake3HasherTest, NodeIdDependsOnEveryField) {
  NodeId base = MakeNodeId("regex", "regex::Regex::new", NodeKind::kMethod, 0);
  EXPECT_EQ(base, MakeNodeId("regex", "regex::Regex::new", NodeKind::kMethod, 0));
  EXPECT_NE(base, MakeNodeId("regex2", "regex::Regex::new", NodeKind::kMethod, 0));
  EXPECT_NE(base, MakeNodeId("regex", "regex::Regex::news", NodeKind::kMethod, 0));
  EXPECT_NE(base, MakeNodeId("regex", "regex::Regex::new", NodeKind::kFunction, 0));
  EXPECT_NE(base, MakeNodeId("regex", "regex::Regex::new", NodeKind::kMethod, 1));
  // Field boundaries are length-prefixed.
  EXPECT_NE(MakeNodeId("ab", "c", NodeKind::kModule, 0),
            MakeNodeId("a", "bc", NodeKind::kModule, 0));
}

// A digest streamed in chunks is the hash of its whole layout, whatever
// the sizes of the fields that crossed a chunk's end.
TEST(FieldDigestTest, EqualsTheHashOfItsLayoutAcrossChunks) {
  auto layout_number = [](std::string* out, uint64_t v) {
    out->append(reinterpret_cast<const char*>(&v), sizeof v);
  };
  FieldDigest d(16);
  std::string layout;
  for (size_t i = 0; i < 5000; ++i) {
    std::string field(i % 97, static_cast<char>('a' + i % 26));
    if (i == 2500) field.assign(FieldDigest::kChunk + 123, 'z');  // longer than a chunk
    d.Field(field);
    layout_number(&layout, field.size());
    layout += field;
    d.Number(i);
    layout_number(&layout, i);
  }
  ASSERT_GT(layout.size(), 3 * FieldDigest::kChunk);
  EXPECT_EQ(d.Finish(), HashBytes(layout));
  EXPECT_EQ(d.Finish(), HashBytes(layout));  // Finish does not consume

  FieldDigest ab_c, a_bc;
  ab_c.Field("ab");
  ab_c.Field("c");
  a_bc.Field("a");
  a_bc.Field("bc");
  EXPECT_NE(ab_c.Finish(), a_bc.Finish());
}

}  // namespace
}  // namespace ferrograph
