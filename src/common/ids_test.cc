#include "ferrograph/ids.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>

#include "ferrograph/graph.h"

namespace ferrograph {
namespace {

TEST(IdsTest, HexRoundTrip) {
  NodeId id;
  for (size_t i = 0; i < NodeId::kSize; ++i) id.mutable_data()[i] = static_cast<uint8_t>(i * 17);
  auto back = NodeId::FromHex(id.str());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, id);
  EXPECT_EQ(id.str().size(), 32u);
  EXPECT_FALSE(NodeId::FromHex("zz").has_value());
  EXPECT_FALSE(NodeId::FromHex(std::string(32, 'g')).has_value());
}

// operator< compares words, but the order is memcmp's: ids sort the same
// in maps, in SQLite (blobs compare with memcmp) and in output.
TEST(IdsTest, FixedBytesOrderIsByteWise) {
  std::mt19937_64 rng(7);
  auto random_id = [&](int shared_prefix, const NodeId& like) {
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<int>(i) < shared_prefix ? like.data()[i] : static_cast<uint8_t>(rng());
    return NodeId(b);
  };
  NodeId base = random_id(0, NodeId());
  for (int i = 0; i < 20000; ++i) {
    NodeId a = random_id(static_cast<int>(rng() % 17), base);
    NodeId b = random_id(static_cast<int>(rng() % 17), a);
    const int m = std::memcmp(a.data(), b.data(), 16);
    ASSERT_EQ(a < b, m < 0) << a.str() << " " << b.str();
    ASSERT_EQ(b<a, m> 0) << a.str() << " " << b.str();
  }
  for (int i = 0; i < 1000; ++i) {
    std::array<uint8_t, 32> xb{}, yb{};
    for (size_t k = 0; k < 32; ++k) xb[k] = yb[k] = static_cast<uint8_t>(rng());
    yb[rng() % 32] ^= static_cast<uint8_t>(1 + rng() % 255);  // one byte differs
    ContentHash x(xb), y(yb);
    const int m = std::memcmp(x.data(), y.data(), 32);
    ASSERT_EQ(x < y, m < 0);
    ASSERT_EQ(y<x, m> 0);
    ASSERT_FALSE(x < x);
  }
  std::array<uint8_t, 32> high{}, low{};
  high[0] = 0x80;  // the first byte decides, whatever the last ones say
  low[31] = 0xff;
  EXPECT_TRUE(ContentHash(low) < ContentHash(high));
  EXPECT_FALSE(ContentHash(high) < ContentHash(low));
}

TEST(IdsTest, VersionParsesCanonicalText) {
  auto v = Version::Parse("017F22E2-79B0-7CC3-98C4-DC0C0C07398F");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->str(), "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
  // RFC 9562 appendix A.6 example: 2022-02-22 19:22:22 UTC = 0x017F22E279B0 ms.
  EXPECT_EQ(v->unix_millis(), 0x017F22E279B0ull);
  EXPECT_EQ(v->version_field(), 7);
  EXPECT_EQ(v->variant_bits(), 2);
  EXPECT_FALSE(Version::Parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398").has_value());
  EXPECT_FALSE(Version::Parse("017f22e2x79b0-7cc3-98c4-dc0c0c07398f").has_value());
}

TEST(IdsTest, KindNamesRoundTrip) {
  for (int i = 0; i < kNodeKindCount; ++i) {
    auto k = static_cast<NodeKind>(i);
    EXPECT_EQ(ParseNodeKind(KindName(k)), k);
  }
  for (int i = 0; i < kEdgeKindCount; ++i) {
    auto k = static_cast<EdgeKind>(i);
    EXPECT_EQ(ParseEdgeKind(KindName(k)), k);
  }
  EXPECT_EQ(KindName(NodeKind::kTypeAlias), "type_alias");
  EXPECT_EQ(KindName(EdgeKind::kImplFor), "IMPL_FOR");
  EXPECT_FALSE(ParseNodeKind("nope").has_value());
}

TEST(IdsTest, PathsSplitOutsideAngleBrackets) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitPath("regex::re_unicode::Regex"), (V{"regex", "re_unicode", "Regex"}));
  EXPECT_EQ(SplitPath("m::<X as std::fmt::Display>::fmt"),
            (V{"m", "<X as std::fmt::Display>", "fmt"}));
  EXPECT_EQ(SplitPath("serde :: Serialize"), (V{"serde", "Serialize"}));
  EXPECT_EQ(SplitPath("::std::io"), (V{"", "std", "io"}));
  EXPECT_EQ(SplitPath("Vec"), (V{"Vec"}));
  EXPECT_EQ(LastPathSegment("a::b::C"), "C");
  EXPECT_EQ(LastPathSegment("m::<X as std::fmt::Display>::fmt"), "fmt");
  EXPECT_EQ(LastPathSegment("m::impl Tr<a::B> for X"), "impl Tr<a::B> for X");
  EXPECT_EQ(LastPathSegment("C"), "C");
}

}  // namespace
}  // namespace ferrograph
