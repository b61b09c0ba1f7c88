#include "common/version_generator.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace ferrograph {
namespace {

TEST(VersionGeneratorTest, FieldsFollowRfc9562) {
  FakeClock clock(0x017F22E279B0ull);
  VersionGenerator gen(&clock);
  Version v = gen.Next();
  EXPECT_EQ(v.unix_millis(), 0x017F22E279B0ull);
  EXPECT_EQ(v.version_field(), 7);
  EXPECT_EQ(v.variant_bits(), 2);
  EXPECT_EQ(v.str().substr(0, 13), "017f22e2-79b0");
  EXPECT_EQ(v.str()[14], '7');
}

TEST(VersionGeneratorTest, MonotonicWithinOneMillisecond) {
  FakeClock clock(1000);
  VersionGenerator gen(&clock);
  Version prev = gen.Next();
  // More than the 12-bit counter can hold: the timestamp must be advanced.
  for (int i = 0; i < 10000; ++i) {
    Version v = gen.Next();
    ASSERT_TRUE(prev < v) << prev.str() << " !< " << v.str();
    ASSERT_EQ(v.version_field(), 7);
    prev = v;
  }
}

TEST(VersionGeneratorTest, MonotonicWhenClockGoesBackwards) {
  FakeClock clock(5000);
  VersionGenerator gen(&clock);
  Version a = gen.Next();
  clock.Set(4000);
  Version b = gen.Next();
  EXPECT_TRUE(a < b);
  EXPECT_GE(b.unix_millis(), 5000u);
}

TEST(VersionGeneratorTest, UniqueAcrossThreads) {
  VersionGenerator gen;
  std::vector<std::vector<Version>> made(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) made[t].push_back(gen.Next());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& list : made) {
    for (size_t i = 1; i < list.size(); ++i) EXPECT_TRUE(list[i - 1] < list[i]);
    for (auto& v : list) all.insert(v.str());
  }
  EXPECT_EQ(all.size(), 8000u);
}

TEST(VersionGeneratorTest, TracksRealTime) {
  Version v = VersionGenerator::Default().Next();
  uint64_t now = SystemClock()->NowMillis();
  EXPECT_LE(v.unix_millis(), now + 1000);
  EXPECT_GE(v.unix_millis() + 60000, now);
}

}  // namespace
}  // namespace ferrograph
