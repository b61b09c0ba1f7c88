#include "ferrograph/status.h"

#include <gtest/gtest.h>

namespace ferrograph {
namespace {

TEST(StatusTest, OkIsDefaultAndCheap) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.WithContext("ignored").ok());
}

TEST(StatusTest, ContextChainsOutermostFirst) {
  Status s = Status::InvalidArgument("unexpected token")
                 .WithContext("parsing src/lib.rs:120")
                 .WithContext("indexing crate regex");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "indexing crate regex: parsing src/lib.rs:120: unexpected token");
  EXPECT_EQ(s.ToString(),
            "InvalidArgument: indexing crate regex: parsing src/lib.rs:120: unexpected token");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  FG_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ResultCarriesValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
  Result<int> c = Quarter(5).WithContext("quartering 5");
  EXPECT_EQ(c.status().message(), "quartering 5: odd");
}

}  // namespace
}  // namespace ferrograph
