#include "ferrograph/ids.h"

#include <gtest/gtest.h>

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
