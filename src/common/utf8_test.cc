#include "common/utf8.h"

#include <gtest/gtest.h>

namespace ferrograph {
namespace {

TEST(Utf8Test, ValidatorRejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii, long enough for the fast path"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("\xc3\xa9"), std::string_view::npos);          // é
  EXPECT_EQ(FindInvalidUtf8("\xf0\x9f\x98\x80"), std::string_view::npos);  // 😀
  EXPECT_EQ(FindInvalidUtf8("ab\xc0\xaf"), 2u);                            // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xed\xa0\x80"), 0u);                          // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);                      // > U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xe2\x82"), 10u);                   // truncated
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);                                  // lone continuation
}

TEST(Utf8Test, EncodesEveryLengthAndReplacesNonScalars) {
  std::string out;
  for (uint32_t cp : {0x24u, 0xE9u, 0x20ACu, 0x1F600u}) AppendUtf8(cp, &out);
  EXPECT_EQ(out, "$\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(FindInvalidUtf8(out), std::string_view::npos);
  std::string bad;
  AppendUtf8(0xD800, &bad);
  AppendUtf8(0x110000, &bad);
  EXPECT_EQ(bad, "\xef\xbf\xbd\xef\xbf\xbd");
}

}  // namespace
}  // namespace ferrograph
